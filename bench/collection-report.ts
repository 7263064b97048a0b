/**
 * The report's part for the collection scenario (bench/collection.ts): its
 * table and its targets (issue 11, "Speed"):
 * - the pull's streaming rewrite (`rewriteMs`) under {@link REWRITE_MS};
 * - peak RSS of the pull, of the same pull again onto its output, and of
 *   the push, under {@link COLLECTION_RSS_MB} MB (decimal): memory does not
 *   grow with the file beyond the index.
 * Wall times are reported, not judged.
 */
import type { CollectionPhase, CollectionScenario, Target } from './results.js';
import { cpu, sec, table } from './tables.js';

export const REWRITE_MS = 1500;
/** Decimal megabytes, as the scale scenario's memory target. */
export const COLLECTION_RSS_MB = 200;

/** mb is a peak RSS (KiB) in decimal megabytes, one decimal; undefined when not measured. */
function mb(kib: number | undefined): number | undefined {
  return kib === undefined ? undefined : Math.round((kib * 1024) / 1e5) / 10;
}

/** renderCollection is the collection scenario's table: the push and the pull, with their own figures. */
export function renderCollection(c: CollectionScenario): string[] {
  const n = c.tracks.toLocaleString('en-US');
  const lines = [
    `collection: a Rekordbox collection of ${n} tracks (${(c.xmlBytes / 1e6).toFixed(1)} MB of XML, ${c.xmlLocations.toLocaleString('en-US')} Locations, ${c.xmlKeys.toLocaleString('en-US')} playlist keys by Location) on a folder remote; set up in ${sec(c.setupMs)} s`,
  ];
  const head = ['run', 'wall s', 'own figure', 'peak RSS MB', 'CPU s', 'details', ''];
  const row = (name: string, p: CollectionPhase | undefined, own: string, details: string) =>
    p ? [name, sec(p.ms), own, mb(p.peakRssKiB)?.toFixed(1) ?? '?', cpu(p.cpuSeconds), details, c.valid ? '' : 'INVALID'] : [name, '-', '-', '-', '-', details, c.valid ? '' : 'INVALID'];
  const push = c.push;
  const pull = c.pull;
  const m = push?.matched;
  const rows = [
    row('alice: first listing of the remote (cratesync ls)', c.aliceCatalog, '-', 'not judged: her state knows the objects before the push, as after her own push of them'),
    row('bob: first listing of the remote (cratesync ls)', c.bobCatalog, '-', 'not judged: the same for bob, before the pull'),
    row(
      'alice: collection push (empty library)',
      push,
      push?.indexMs !== undefined ? `index ${sec(push.indexMs)} s` : '-',
      m ? `${m.root.toLocaleString('en-US')} matched by path, ${m.name} by name and size, ${m.hash} by content; ${push?.unmatched ?? '?'} unmatched` : '',
    ),
    row(
      "bob: collection pull --from alice (has every file)",
      pull,
      pull?.rewriteMs !== undefined ? `rewrite ${sec(pull.rewriteMs)} s` : '-',
      pull ? `${pull.have?.toLocaleString('en-US') ?? '?'} his own files, ${pull.refused ?? '?'} refused; output ${c.outBytes !== undefined ? `${(c.outBytes / 1e6).toFixed(1)} MB` : '-'}${c.expectedBytes !== undefined ? ` (${(c.expectedBytes / 1e6).toFixed(1)} expected)` : ''}` : '',
    ),
    row(
      'bob: the same pull again (same --out, unchanged)',
      c.pullAgain,
      c.pullAgain?.rewriteMs !== undefined ? `rewrite ${sec(c.pullAgain.rewriteMs)} s` : '-',
      c.pullAgain ? 'the file it replaces compared with the new one' : '',
    ),
  ];
  lines.push(...table(head, rows, [0, 2, 5]));
  const k = c.checked;
  lines.push(
    k
      ? `  output checked: ${k.locations.toLocaleString('en-US')} Locations each bob's file of its TrackID (${k.sampled} of them found on disk), ${k.keys.toLocaleString('en-US')} playlist keys in his library (${k.keysOnDisk} on disk)`
      : '  output not checked (a run failed)',
  );
  lines.push("  MB = 10^6 bytes; wall = spawn to exit (the catalog's refresh, the XML's upload or download, the state included); own figure = the command's --json (indexMs, rewriteMs).");
  return lines;
}

/** collectionTargets judges the scenario against the issue's targets; an invalid scenario's are n/a. */
export function collectionTargets(c: CollectionScenario): Target[] {
  const n = c.tracks.toLocaleString('en-US');
  const under = (name: string, required: number, unit: string, measured: number | undefined): Target =>
    c.valid && measured !== undefined ? { name, required, atMost: true, unit, measured, met: measured <= required } : { name, required, atMost: true, unit };
  return [
    under(`collection: rewrite of ${n} tracks under ${REWRITE_MS / 1000} s (pull's rewriteMs)`, REWRITE_MS, 'ms', c.pull?.rewriteMs),
    under(`collection: pull of ${n} tracks, peak RSS under ${COLLECTION_RSS_MB} MB (10^6 bytes)`, COLLECTION_RSS_MB, 'MB', mb(c.pull?.peakRssKiB)),
    under(`collection: the same pull again onto its output, peak RSS under ${COLLECTION_RSS_MB} MB (10^6 bytes)`, COLLECTION_RSS_MB, 'MB', mb(c.pullAgain?.peakRssKiB)),
    under(`collection: push of ${n} tracks, peak RSS under ${COLLECTION_RSS_MB} MB (10^6 bytes)`, COLLECTION_RSS_MB, 'MB', mb(c.push?.peakRssKiB)),
  ];
}
