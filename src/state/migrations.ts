/**
 * Numbered schema migrations of the state database. Each runs once, in
 * order, inside a transaction; `PRAGMA user_version` records the last one
 * applied. Never edit a released migration: add the next number.
 */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'files and sync records',
    sql: `
      -- One row per library file that passed the filters at the last scan.
      CREATE TABLE files (
        path       TEXT PRIMARY KEY,   -- NFC, '/'-separated, relative to the library root
        size       INTEGER NOT NULL,
        mtime_ms   REAL NOT NULL,
        inode      INTEGER NOT NULL,
        md5        TEXT NOT NULL,      -- hex MD5 of the whole file
        audio_hash TEXT,               -- hex SHA-256 of the audio bytes only (tags excluded)
        tags       TEXT,               -- JSON of the common tags, NULL when unreadable
        scanned_at INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE INDEX files_md5 ON files(md5);
      CREATE INDEX files_audio_hash ON files(audio_hash);

      -- What was last transferred or confirmed identical, per remote and path.
      CREATE TABLE synced (
        remote     TEXT NOT NULL,      -- canonical remote URL
        path       TEXT NOT NULL,      -- NFC library path
        key        TEXT NOT NULL,      -- exact remote key
        size       INTEGER NOT NULL,
        md5        TEXT NOT NULL,
        etag       TEXT,
        synced_at  INTEGER NOT NULL,
        PRIMARY KEY (remote, path)
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 2,
    name: 'remote mirror',
    sql: `
      -- What each remote's music/ prefix held at its last full listing, kept up to
      -- date with this machine's own writes: a no-op run reads this instead of
      -- listing the bucket, as long as the remote's generation marker is unchanged.
      CREATE TABLE remote_objects (
        remote   TEXT NOT NULL,
        key      TEXT NOT NULL,      -- exact key relative to the remote root
        size     INTEGER NOT NULL,
        etag     TEXT,
        mtime_ms REAL,
        PRIMARY KEY (remote, key)
      ) WITHOUT ROWID;

      CREATE TABLE remotes (
        remote     TEXT PRIMARY KEY,
        generation TEXT,             -- the marker the mirror is complete for; NULL: not complete
        listed_at  INTEGER           -- when the mirror was last rebuilt from a full listing
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 3,
    name: 'remote catalog',
    sql: `
      -- The mirror learns what the remote catalog knows of each object (see
      -- sync/catalog.ts): content and audio hashes, tags, who wrote it and when,
      -- and which log entry last set it (so an older entry read late cannot undo it).
      ALTER TABLE remote_objects ADD COLUMN md5 TEXT;
      ALTER TABLE remote_objects ADD COLUMN audio_hash TEXT;
      ALTER TABLE remote_objects ADD COLUMN tags TEXT;
      ALTER TABLE remote_objects ADD COLUMN writer TEXT;
      ALTER TABLE remote_objects ADD COLUMN written_at INTEGER;
      ALTER TABLE remote_objects ADD COLUMN log_key TEXT;
      CREATE INDEX remote_objects_md5 ON remote_objects(remote, md5);

      -- The audio hash of what was synced, so a tag-only edit on either side is told apart.
      ALTER TABLE synced ADD COLUMN audio_hash TEXT;

      -- Catalog log objects already folded into the mirror, per remote.
      CREATE TABLE catalog_logs (
        remote TEXT NOT NULL,
        key    TEXT NOT NULL,
        PRIMARY KEY (remote, key)
      ) WITHOUT ROWID;

      -- Changes this machine made to a remote and has not yet written to its
      -- catalog log; kept here first so that a crash between the change and the
      -- log write loses nothing (the next run writes them).
      CREATE TABLE catalog_pending (
        remote TEXT NOT NULL,
        seq    INTEGER NOT NULL,
        entry  TEXT NOT NULL,           -- JSON of one CatalogEntry
        PRIMARY KEY (remote, seq)
      );

      ALTER TABLE remotes ADD COLUMN log_cursor TEXT;  -- greatest log key folded in
      -- A stable identity for this machine, recorded with what it writes.
      CREATE TABLE machine (id TEXT NOT NULL);
    `,
  },
  {
    version: 4,
    name: 'moves in progress',
    sql: `
      -- Where a synced path was being moved to, set before the move's copy (see sync/plan.ts).
      ALTER TABLE synced ADD COLUMN moved_to TEXT;
    `,
  },
  {
    version: 5,
    name: 'sync records by key',
    sql: `
      CREATE INDEX synced_key ON synced(remote, key);
    `,
  },
  {
    version: 6,
    name: 'records settled',
    sql: `
      -- 1 when the last run against this remote ended with every identical pair's
      -- sync record written (see sync/transfer.ts, confirmIdentical).
      ALTER TABLE remotes ADD COLUMN records_settled INTEGER;
    `,
  },
  {
    version: 7,
    name: 'work queue',
    sql: `
      -- The service's durable queue: library paths (files or folders; '' for the
      -- whole library) reported changed and not yet carried out. A path is one
      -- row however often it changes; a run removes its row only at the
      -- generation it took, so a change reported during the run is kept.
      CREATE TABLE work_queue (
        path       TEXT PRIMARY KEY,
        source     TEXT NOT NULL,          -- who reported it: watch, scan, api, player
        queued_at  INTEGER NOT NULL,       -- the first report not yet carried out
        due_at     INTEGER NOT NULL,       -- not taken before this (quiet period, retry backoff)
        gen        INTEGER NOT NULL,       -- one more for each report
        attempts   INTEGER NOT NULL DEFAULT 0,
        last_error TEXT
      ) WITHOUT ROWID;
      CREATE INDEX work_queue_due ON work_queue(due_at);
    `,
  },
  {
    version: 8,
    name: 'player metadata and playlists in the catalog',
    sql: `
      -- What a media player knows of a song (JSON of a PlayerMeta), as the catalog says.
      ALTER TABLE remote_objects ADD COLUMN player TEXT;

      -- The mirror of each remote's playlists/ (see sync/playlist-publish.ts),
      -- apart from remote_objects so that the music planner never sees them.
      CREATE TABLE remote_playlists (
        remote     TEXT NOT NULL,
        key        TEXT NOT NULL,      -- playlists/<user>/<name>.m3u8
        size       INTEGER NOT NULL,
        etag       TEXT,
        mtime_ms   REAL,
        md5        TEXT,
        meta       TEXT,               -- JSON of a PlaylistMeta, when the catalog says
        writer     TEXT,
        written_at INTEGER,
        log_key    TEXT,
        PRIMARY KEY (remote, key)
      ) WITHOUT ROWID;

      -- The playlist files a pull wrote into the library, and from which object:
      -- a playlist removed on the remote moves its file to the local trash.
      CREATE TABLE pulled_playlists (
        remote TEXT NOT NULL,
        file   TEXT NOT NULL,          -- library path: Playlists/<user>/<name>.m3u8
        key    TEXT NOT NULL,
        version TEXT NOT NULL,         -- the object's size, ETag and MD5 when it was written: unchanged, not read again
        PRIMARY KEY (remote, file)
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 9,
    name: 'media players',
    sql: `
      -- Media players attached to this library (cratesync attach): where their
      -- library is, how their paths map to this machine, and what the last
      -- check and sync found.
      CREATE TABLE players (
        name        TEXT PRIMARY KEY,      -- the adapter: strawberry, mediamonkey…
        kind        TEXT NOT NULL,         -- sqlite (triggers) or xml (diffed)
        db_path     TEXT NOT NULL,         -- its database or main library file
        maps        TEXT NOT NULL,         -- JSON [{from, to}]: player paths to this machine's
        attached_at INTEGER NOT NULL,
        identity    TEXT,                  -- the file's device:inode when last seen (a replaced database)
        version     TEXT,                  -- what was last read: an XML library's size:mtime, a database's schema_version
        last_change INTEGER,               -- when a change of the player was last taken
        last_sync   INTEGER,               -- when its changes last reached the remote
        last_check  INTEGER,               -- when its triggers were last checked
        health      TEXT NOT NULL,         -- ok, repaired, missing, error
        note        TEXT,                  -- what the last check found or did
        problems    TEXT NOT NULL DEFAULT '[]' -- JSON [{path, message}] of the last sync
      ) WITHOUT ROWID;

      -- The songs of each player as last read, by the player's own path.
      CREATE TABLE player_songs (
        player  TEXT NOT NULL,
        path    TEXT NOT NULL,             -- as the player has it (identity: players reuse ids)
        id      TEXT NOT NULL,             -- the player's id of the row
        local   TEXT,                      -- library path (NFC, '/'), NULL when outside the library
        meta    TEXT NOT NULL,             -- JSON of its fields (PlayerSong without id and path)
        PRIMARY KEY (player, path)
      ) WITHOUT ROWID;
      CREATE INDEX player_songs_id ON player_songs(player, id);

      -- The playlists of each player as last read.
      CREATE TABLE player_playlists (
        player   TEXT NOT NULL,
        id       TEXT NOT NULL,
        name     TEXT NOT NULL,            -- with its folders, '/'-separated
        smart    INTEGER NOT NULL,
        rule     TEXT,                     -- JSON SmartRule, for contents cratesync evaluates
        paths    TEXT NOT NULL,            -- JSON [player path] in order, as read
        position INTEGER,
        PRIMARY KEY (player, id)
      ) WITHOUT ROWID;

      -- What of it was last published to each remote: a song's metadata by
      -- library path, a playlist by player and id (with the name it has there).
      CREATE TABLE player_published (
        remote  TEXT NOT NULL,
        kind    TEXT NOT NULL,             -- song or playlist
        ref     TEXT NOT NULL,             -- library path, or player + ':' + id
        digest  TEXT NOT NULL,
        name    TEXT,                      -- a playlist's name on the remote
        PRIMARY KEY (remote, kind, ref)
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 10,
    name: 'activity history',
    sql: `
      -- What the service carried out, one row per file and action, for the
      -- dashboard's history (see state/activity-log.ts). Ids grow with time:
      -- pages go newest first by id, and pruning drops the lowest ids.
      CREATE TABLE activity (
        id        INTEGER PRIMARY KEY,
        at        INTEGER NOT NULL,    -- ms since the epoch
        run_id    TEXT NOT NULL,
        kind      TEXT NOT NULL,       -- upload, download, copy-remote… restore
        reason    TEXT NOT NULL,       -- the plan's reason (new, tags-changed…)
        path      TEXT NOT NULL,       -- NFC library path
        from_path TEXT,                -- a copy's or move's source path
        bytes     INTEGER NOT NULL,
        ok        INTEGER NOT NULL,    -- 1 done, 0 failed
        error     TEXT,                -- why it failed
        search    TEXT NOT NULL        -- path and from_path folded (lowercase, NFC): what a search matches
      );
      CREATE INDEX activity_at ON activity(at);
      CREATE INDEX activity_kind ON activity(kind, id);
      CREATE INDEX activity_reason ON activity(reason, id);
    `,
  },
  {
    version: 11,
    name: 'subsonic index',
    sql: `
      -- The Subsonic server's browsing index of each remote's music/ (see
      -- state/subsonic-index.ts), derived from remote_objects. Built whole on
      -- the first refresh (which adds the remote to sub_built); from then on
      -- the triggers below note each changed key in sub_dirty, and a refresh
      -- applies them. Names are kept as shown and folded (NFKD without
      -- combining marks, lower case) for sorting and matching.
      CREATE TABLE sub_built (
        remote      TEXT PRIMARY KEY,
        built_at    INTEGER NOT NULL,
        last_change INTEGER NOT NULL,  -- when a refresh last changed something (ms)
        songs       INTEGER NOT NULL,
        albums      INTEGER NOT NULL,
        artists     INTEGER NOT NULL
      ) WITHOUT ROWID;

      CREATE TABLE sub_dirty (
        remote TEXT NOT NULL,
        key    TEXT NOT NULL,
        PRIMARY KEY (remote, key)
      ) WITHOUT ROWID;

      -- One row per audio object under music/. n: a stable row number (random
      -- picks probe it; the full-text table shares it).
      CREATE TABLE sub_songs (
        n            INTEGER PRIMARY KEY,
        remote       TEXT NOT NULL,
        key          TEXT NOT NULL,
        id           TEXT NOT NULL,
        title        TEXT NOT NULL,
        album        TEXT NOT NULL,
        album_id     TEXT NOT NULL,
        artist       TEXT NOT NULL,
        artist_id    TEXT NOT NULL,
        album_artist TEXT NOT NULL,
        title_fold   TEXT NOT NULL,
        artist_fold  TEXT NOT NULL,
        genre        TEXT,
        genre_fold   TEXT,
        year         INTEGER,
        track        INTEGER,
        disc         INTEGER,
        duration     REAL,
        bitrate      INTEGER,
        size         INTEGER NOT NULL,
        suffix       TEXT NOT NULL,
        md5          TEXT,
        cover        TEXT,
        folder       TEXT NOT NULL,    -- the key's folder, with its trailing '/'
        created      INTEGER NOT NULL,
        play_count   INTEGER,
        last_played  INTEGER,
        rating       INTEGER,          -- 0–100
        starred      INTEGER,
        has_lyrics   INTEGER NOT NULL,
        UNIQUE (remote, key)
      );
      CREATE INDEX sub_songs_id ON sub_songs(remote, id);
      CREATE INDEX sub_songs_album ON sub_songs(remote, album_id, disc, track);
      CREATE INDEX sub_songs_genre ON sub_songs(remote, genre_fold, album_id);
      CREATE INDEX sub_songs_starred ON sub_songs(remote, starred) WHERE starred IS NOT NULL;

      CREATE TABLE sub_albums (
        n           INTEGER PRIMARY KEY,
        remote      TEXT NOT NULL,
        id          TEXT NOT NULL,
        name        TEXT NOT NULL,
        sort_name   TEXT NOT NULL,     -- folded, without a leading ignored article
        artist      TEXT NOT NULL,
        artist_id   TEXT NOT NULL,
        artist_sort TEXT NOT NULL,
        year        INTEGER,
        genre       TEXT,
        genre_fold  TEXT,
        song_count  INTEGER NOT NULL,
        duration    REAL NOT NULL,
        created     INTEGER NOT NULL,
        cover       TEXT,
        folder      TEXT NOT NULL,
        image       TEXT,              -- a cover image object in its folder
        play_count  INTEGER NOT NULL,
        last_played INTEGER,
        rating      INTEGER,
        UNIQUE (remote, id)
      );
      CREATE INDEX sub_albums_artist ON sub_albums(remote, artist_id, year, sort_name);
      CREATE INDEX sub_albums_name ON sub_albums(remote, sort_name);
      CREATE INDEX sub_albums_by_artist ON sub_albums(remote, artist_sort, sort_name);
      CREATE INDEX sub_albums_created ON sub_albums(remote, created);
      CREATE INDEX sub_albums_played ON sub_albums(remote, last_played) WHERE last_played IS NOT NULL;
      CREATE INDEX sub_albums_plays ON sub_albums(remote, play_count) WHERE play_count > 0;
      CREATE INDEX sub_albums_rating ON sub_albums(remote, rating) WHERE rating IS NOT NULL;
      CREATE INDEX sub_albums_year ON sub_albums(remote, year, sort_name);
      CREATE INDEX sub_albums_genre ON sub_albums(remote, genre_fold, sort_name);
      CREATE INDEX sub_albums_folder ON sub_albums(remote, folder);

      -- Album artists.
      CREATE TABLE sub_artists (
        n           INTEGER PRIMARY KEY,
        remote      TEXT NOT NULL,
        id          TEXT NOT NULL,
        name        TEXT NOT NULL,
        sort_name   TEXT NOT NULL,
        album_count INTEGER NOT NULL,
        cover_album TEXT,
        UNIQUE (remote, id)
      );
      CREATE INDEX sub_artists_sort ON sub_artists(remote, sort_name);

      CREATE TABLE sub_genres (
        remote      TEXT NOT NULL,
        fold        TEXT NOT NULL,
        name        TEXT NOT NULL,
        song_count  INTEGER NOT NULL,
        album_count INTEGER NOT NULL,
        PRIMARY KEY (remote, fold)
      ) WITHOUT ROWID;

      -- Cover image objects (cover.jpg, folder.png…) by folder.
      CREATE TABLE sub_images (
        remote TEXT NOT NULL,
        folder TEXT NOT NULL,
        key    TEXT NOT NULL,
        rank   INTEGER NOT NULL,       -- lower is preferred
        PRIMARY KEY (remote, folder, key)
      ) WITHOUT ROWID;

      -- Stars of albums and artists: the catalog has no object to hold them.
      CREATE TABLE sub_stars (
        remote     TEXT NOT NULL,
        id         TEXT NOT NULL,
        starred_at INTEGER NOT NULL,
        PRIMARY KEY (remote, id)
      ) WITHOUT ROWID;
      CREATE INDEX sub_stars_at ON sub_stars(remote, starred_at);

      -- Word search: folded names, by the row number of their table.
      CREATE VIRTUAL TABLE sub_song_words USING fts5(words, content='', contentless_delete=1, tokenize='unicode61 remove_diacritics 2', prefix='1 2');
      CREATE VIRTUAL TABLE sub_album_words USING fts5(words, content='', contentless_delete=1, tokenize='unicode61 remove_diacritics 2', prefix='1 2');
      CREATE VIRTUAL TABLE sub_artist_words USING fts5(words, content='', contentless_delete=1, tokenize='unicode61 remove_diacritics 2', prefix='1 2');

      -- Only once the index of a remote is built, and only for what it reads.
      -- No INSERT OR IGNORE: a statement that fires a trigger with its own
      -- conflict clause (the mirror's upsert) overrides the trigger's.
      CREATE TRIGGER sub_dirty_insert AFTER INSERT ON remote_objects
      WHEN new.key >= 'music/' AND new.key < 'music0' AND EXISTS (SELECT 1 FROM sub_built WHERE remote = new.remote)
      BEGIN
        INSERT INTO sub_dirty (remote, key) SELECT new.remote, new.key
          WHERE NOT EXISTS (SELECT 1 FROM sub_dirty WHERE remote = new.remote AND key = new.key);
      END;
      CREATE TRIGGER sub_dirty_update AFTER UPDATE ON remote_objects
      WHEN EXISTS (SELECT 1 FROM sub_built WHERE remote = new.remote)
        AND (old.key IS NOT new.key OR old.remote IS NOT new.remote OR old.size IS NOT new.size OR old.md5 IS NOT new.md5
          OR old.etag IS NOT new.etag OR old.tags IS NOT new.tags OR old.player IS NOT new.player OR old.written_at IS NOT new.written_at)
      BEGIN
        INSERT INTO sub_dirty (remote, key) SELECT old.remote, old.key
          WHERE old.key >= 'music/' AND old.key < 'music0' AND NOT EXISTS (SELECT 1 FROM sub_dirty WHERE remote = old.remote AND key = old.key);
        INSERT INTO sub_dirty (remote, key) SELECT new.remote, new.key
          WHERE new.key >= 'music/' AND new.key < 'music0' AND NOT EXISTS (SELECT 1 FROM sub_dirty WHERE remote = new.remote AND key = new.key);
      END;
      CREATE TRIGGER sub_dirty_delete AFTER DELETE ON remote_objects
      WHEN old.key >= 'music/' AND old.key < 'music0' AND EXISTS (SELECT 1 FROM sub_built WHERE remote = old.remote)
      BEGIN
        INSERT INTO sub_dirty (remote, key) SELECT old.remote, old.key
          WHERE NOT EXISTS (SELECT 1 FROM sub_dirty WHERE remote = old.remote AND key = old.key);
      END;
    `,
  },
  {
    version: 12,
    name: 'serve users',
    sql: `
      -- Users of the Subsonic server (cratesync serve), not crew members. Token
      -- authentication (t = md5(password + salt)) needs the password itself, so
      -- it is kept sealed (AES-256-GCM) under a key in a file of its own, not
      -- hashed; see state/serve-users.ts.
      CREATE TABLE serve_users (
        name       TEXT PRIMARY KEY,
        password   TEXT NOT NULL,      -- sealed: base64 of nonce, tag and ciphertext
        api_key    TEXT UNIQUE,        -- hex SHA-256 of the user's API key; NULL when none
        created_at INTEGER NOT NULL    -- ms since the epoch
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 13,
    name: 'covers on remotes',
    sql: `
      -- Embedded covers (by content: <sha256>.<ext>) known to be stored under a
      -- remote's .cratesync/covers/: sent once, never asked about again.
      CREATE TABLE cover_uploads (
        remote TEXT NOT NULL,
        name   TEXT NOT NULL,
        at     INTEGER NOT NULL,      -- ms since the epoch
        PRIMARY KEY (remote, name)
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 14,
    name: 'media version of indexed files',
    sql: `
      -- Which version of the media reader (library/tags.ts MEDIA_VERSION) read
      -- a file's tags; NULL for rows an older cratesync wrote. A file read by an
      -- older reader is read again, without hashing, on the next push or sync
      -- (sync/media-refresh.ts).
      ALTER TABLE files ADD COLUMN media_v INTEGER;
    `,
  },
];
