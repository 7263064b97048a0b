import { describe, expect, it } from 'vitest';
import { makeCollectionXml } from '../../test/fixtures/rekordbox.js';
import { XmlError, XmlScanner, type XmlScannerOptions, type XmlTag } from './xml-scanner.js';

/** Feeds `doc` in pieces of `size` bytes; returns every event (with the attributes in `attrs`) and the scanner. */
function events(doc: Buffer, size: number, attrs: string[] = []): string[] {
  const out: string[] = [];
  const open = (t: XmlTag) => {
    // A span names the raw value in the whole input, whatever the chunking.
    const raw = (a: string) => {
      const span = t.span(a);
      return span ? doc.toString('utf8', span[0], span[1]) : '';
    };
    const shown = attrs.filter((a) => t.attr(a) !== undefined).map((a) => `${a}=${JSON.stringify(t.attr(a))} raw ${raw(a)}`);
    out.push(`<${t.name}${t.selfClosing ? '/' : ''} L${t.line} ${shown.join(' ')}`.trim());
  };
  const s = new XmlScanner({ open, close: (n) => out.push(`</${n}>`) }, 'doc.xml');
  for (let i = 0; i < doc.length; i += size) s.write(doc.subarray(i, i + size));
  s.end();
  expect(s.settled).toBe(doc.length);
  return out;
}

/** The XmlError `doc` raises when fed in pieces of `size` bytes. */
function failure(doc: string, size = Infinity): XmlError {
  const buf = Buffer.from(doc);
  const s = new XmlScanner({}, 'bad.xml');
  try {
    for (let i = 0; i < buf.length; i += Math.min(size, buf.length)) s.write(buf.subarray(i, i + size));
    s.end();
  } catch (err) {
    if (err instanceof XmlError) return err;
    throw err;
  }
  throw new Error(`no XmlError for ${JSON.stringify(doc)}`);
}

const SMALL =
  '\ufeff<?xml version="1.0" encoding="UTF-8"?>\r\n<!-- a comment with <tags> & stuff -->\n<?pi some data?>\n' +
  '<ROOT a="1 &amp; 2 &lt;3&gt; &quot;q&quot; &apos;s&apos; &#65;&#x42;" b=\'single "q"\'\n\tc = "line\nbreak\ttab">\n' +
  '  <E x="Déjà vu"/>text &amp; more <![CDATA[ <not a tag> & ]]>\n' +
  '  <E x="2" ></E >\n</ROOT>\n<!-- trailing -->\n';

describe('XmlScanner', () => {
  it('gives the same events and spans for pieces of every size', () => {
    const doc = Buffer.from(SMALL);
    const whole = events(doc, doc.length, ['a', 'b', 'c', 'x']);
    expect(whole).toEqual([
      '<ROOT L4 a="1 & 2 <3> \\"q\\" \'s\' AB" raw 1 &amp; 2 &lt;3&gt; &quot;q&quot; &apos;s&apos; &#65;&#x42; ' +
        'b="single \\"q\\"" raw single "q" c="line break tab" raw line\nbreak\ttab',
      '<E/ L7 x="Déjà vu" raw Déjà vu',
      '</E>',
      '<E L8 x="2" raw 2',
      '</E>',
      '</ROOT>',
    ]);
    for (const size of [1, 2, 3, 7, 64]) expect(events(doc, size, ['a', 'b', 'c', 'x'])).toEqual(whole);
  });

  it('reads a generated Rekordbox collection the same in 1-byte, 7-byte and whole pieces', () => {
    const xml = makeCollectionXml({
      root: 'D:/DJ Music',
      tracks: [
        { rel: 'House/Rock & Roll (Extended Mix).mp3', artist: "Guns N' Roses" },
        { rel: 'Techno/Déjà Vu, Part 2.mp3', nfd: true },
        { rel: 'a/b/c/x.wav' },
        { rel: 'Ünder/100% #1.flac' },
        { rel: 'y.mp3' },
      ],
      playlists: [
        { path: 'Sets/Peak Time', rels: ['House/Rock & Roll (Extended Mix).mp3', 'y.mp3'] },
        { path: 'Sets/Old/Warmup', rels: ['Techno/Déjà Vu, Part 2.mp3'], keyType: 1 },
      ],
    });
    const doc = Buffer.from(xml);
    const attrs = ['TrackID', 'Location', 'Name', 'Key', 'Comments'];
    const whole = events(doc, doc.length, attrs);
    expect(whole.filter((e) => e.startsWith('<TRACK'))).toHaveLength(5 + 3);
    expect(events(doc, 1, attrs)).toEqual(whole);
    expect(events(doc, 7, attrs)).toEqual(whole);
  });

  it('gives the same events for big chunks cut inside long tags, comments and references', () => {
    const long = 'x'.repeat(70_000);
    const tracks = Array.from({ length: 400 }, (_, i) => ({ rel: `Crate ${i % 7}/Track & ${i} (Mix).mp3` }));
    const xml = makeCollectionXml({ root: '/Volumes/USB', tracks, playlists: [] })
      .replace('<COLLECTION', `<!-- ${long} -->\n<COLLECTION Long="${long}&amp;${long}"`)
      .replace('</COLLECTION>', `${'&amp;'.repeat(9000)}</COLLECTION>`);
    const doc = Buffer.from(xml);
    const attrs = ['TrackID', 'Location', 'Long'];
    const whole = events(doc, doc.length, attrs);
    expect(whole).toHaveLength(300 * 10 + 100 * 2 + 10);
    for (const size of [1000, 16_383, 16_385, 40_000, 65_536, 100_003]) expect(events(doc, size, attrs), `chunks of ${size}`).toEqual(whole);
  });

  it('settles before a tag cut by the chunk, and after it once it is whole', () => {
    const s = new XmlScanner({}, 'x');
    s.write(Buffer.from('<a><b x="1'));
    expect(s.settled).toBe(3);
    s.write(Buffer.from('"/>text'));
    expect(s.settled).toBe(17);
    s.write(Buffer.from('</a>'));
    s.end();
    expect(s.settled).toBe(21);
  });

  const cases: Array<[string, string, number, RegExp]> = [
    ['mismatched tags', '<a>\n<b>\n</a>', 3, /<\/a> does not close <b> \(opened on line 2\)/],
    ['an unclosed element', '<a>\n  <b></b>\n', 1, /<a> is never closed/],
    ['an end tag with no start', '</a>', 1, /closes no open element/],
    ['text after the root', '<a/>\n\nx', 3, /text after the root element/],
    ['text before the root', 'x<a/>', 1, /text before the root element/],
    ['a second root element', '<a></a>\n<b/>', 2, /a second element after the root/],
    ['a DOCTYPE', '<?xml version="1.0"?>\n<!DOCTYPE a>\n<a/>', 2, /DTD not allowed: a collection never needs one/],
    ['an ENTITY declaration', '<a>\n<!ENTITY x "y">\n</a>', 2, /entity declarations are not allowed/],
    ['an unknown entity in text', '<a>\n\n&foo;</a>', 3, /entity &foo; is not allowed/],
    ['an unknown entity in an attribute', '<a\n  x="ok &bar;"/>', 2, /entity &bar; is not allowed/],
    ['a bare & in text', '<a>\nR&B</a>', 2, /unterminated entity reference/],
    ['a bare & in an attribute', '<a x="R&B"/>', 1, /unterminated entity reference/],
    ['a reference to NUL', '<a>&#0;</a>', 1, /&#0; names no valid character/],
    ['a reference to a surrogate', '<a x="&#xD800;"/>', 1, /&#xD800; names no valid character/],
    ['a reference past U+10FFFF', '<a>&#x110000;</a>', 1, /names no valid character/],
    ["'<' in an attribute value", '<a\n x="1<2"/>', 2, /'<' in the value of attribute x/],
    ['a duplicate attribute', '<a x="1"\n y="2" x="3"/>', 2, /duplicate attribute x/],
    ['an unquoted value', '<a x=1/>', 1, /value of attribute x is not quoted/],
    ['an attribute without value', '<a x/>', 1, /attribute x has no value/],
    ['attributes without whitespace between', '<a x="1"y="2"/>', 1, /no whitespace between attributes/],
    ['a bad element name', '<a>\n<1b/></a>', 2, /bad element name/],
    ['whitespace after <', '<a>< b/></a>', 1, /whitespace after '<'/],
    ['a bad attribute name', '<a -x="1"/>', 1, /bad attribute name/],
    ['a bad end tag', '<a></a x>', 1, /'>' expected to end <\/a>/],
    ['content before the XML declaration', '\n<?xml version="1.0"?><a/>', 2, /content before the XML declaration/],
    ['a comment before the XML declaration', '<!-- c --><?xml version="1.0"?><a/>', 1, /content before the XML declaration/],
    ['another encoding', '<?xml version="1.0" encoding="UTF-16"?><a/>', 1, /encoding UTF-16 is not supported/],
    ['no root element', '<?xml version="1.0"?>\n<!-- nothing -->\n', 3, /no root element/],
    ['empty input', '', 1, /no root element/],
    ['an unterminated comment', '<a>\n<!-- x </a>', 2, /end of input inside a comment/],
    ['an unterminated tag', '<a>\n<b x="1"', 2, /end of input inside a tag/],
    ['CDATA outside the root', '<![CDATA[x]]><a/>', 1, /CDATA section outside the root/],
    ['too many attributes', `<a\n${Array.from({ length: 129 }, (_, k) => `a${k}="${k}"`).join(' ')}/>`, 2, /more than 128 attributes in one tag/],
    ['a duplicate among many attributes', `<a ${Array.from({ length: 100 }, (_, k) => `a${k}="${k}"`).join(' ')} a57="x"/>`, 1, /duplicate attribute a57/],
    ['a bad declaration', '<a><!FOO bar></a>', 1, /bad markup declaration/],
  ];
  for (const [what, doc, line, message] of cases) {
    it(`refuses ${what}, naming line ${line}, in any chunking`, () => {
      for (const size of [Infinity, 1, 5]) {
        const err = failure(doc, size);
        expect(err.line, `chunks of ${size}`).toBe(line);
        expect(err.message).toMatch(new RegExp(`^bad\\.xml: line ${line}: `));
        expect(err.message).toMatch(message);
      }
    });
  }

  it('refuses a billion-laughs DTD at the DOCTYPE, before any element is reported', () => {
    const lols = Array.from({ length: 9 }, (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i};`.repeat(10)}">`).join('\n');
    const doc = `<?xml version="1.0"?>\n<!DOCTYPE lolz [\n<!ENTITY lol0 "lol">\n${lols}\n]>\n<lolz>&lol9;</lolz>`;
    let opened = 0;
    const s = new XmlScanner({ open: () => opened++ }, 'bomb.xml');
    expect(() => s.write(Buffer.from(doc))).toThrow(/bomb\.xml: line 2: DTD not allowed/);
    expect(opened).toBe(0);
  });

  it('refuses an external entity at the DOCTYPE, never reading what it names', () => {
    const doc = '<?xml version="1.0"?>\n<!DOCTYPE x [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> ]>\n<x>&xxe;</x>';
    expect(() => new XmlScanner({}, 'xxe.xml').write(Buffer.from(doc))).toThrow(/xxe\.xml: line 2: DTD not allowed/);
  });

  it('refuses a tag that never ends instead of holding it all', () => {
    const s = new XmlScanner({}, 'long.xml');
    s.write(Buffer.from('<a><b x="'));
    const mib = Buffer.alloc(1024 * 1024, 0x61);
    expect(() => {
      for (let i = 0; i < 10; i++) s.write(mib);
    }).toThrow(/longer than 8 MiB/);
  });

  describe('text (opt-in)', () => {
    /** Every text run and tag, with the document fed in pieces of `size` bytes. */
    const runs = (doc: string, size: number, options: XmlScannerOptions = {}) => {
      const out: string[] = [];
      const buf = Buffer.from(doc);
      const s = new XmlScanner({ open: (t) => out.push(`<${t.name} L${t.line}>`), close: (n) => out.push(`</${n}>`), text: (v) => out.push(JSON.stringify(v.value())) }, 'doc.xml', options);
      for (let i = 0; i < buf.length; i += size) s.write(buf.subarray(i, i + size));
      s.end();
      expect(s.settled).toBe(buf.length);
      return out;
    };

    it('gives each run of text whole and decoded, whatever the chunking', () => {
      const doc = '<?xml version="1.0"?>\r\n<r>\n  <t>Sigur R\u00f3s &amp; Bj\u00f6rk &#x1F3B5; &lt;3</t>\r\n<u>a\r\nb\rc</u><![CDATA[<raw> & ]]><v/>\n<w>&#65;</w></r>\n';
      const whole = runs(doc, Infinity);
      expect(whole).toEqual([
        '<r L2>', '"\\n  "', '<t L3>', JSON.stringify('Sigur R\u00f3s & Bj\u00f6rk \u{1F3B5} <3'), '</t>', '"\\n"',
        '<u L4>', '"a\\nb\\nc"', '</u>', '"<raw> & "', '<v L5>', '</v>', '"\\n"', '<w L6>', '"A"', '</w>', '</r>',
      ]);
      for (const size of [1, 2, 3, 7, 64]) expect(runs(doc, size), `chunks of ${size}`).toEqual(whole);
    });

    it('still refuses a bad reference in text, and names the element left open at a cut-off end', () => {
      expect(() => runs('<r>a &nbsp; b</r>', 3)).toThrow(/entity &nbsp; is not allowed/);
      expect(() => runs('<r>\n<t>cut off', 4)).toThrow(/doc\.xml: line 2: <t> is never closed/);
    });
  });

  describe("doctype: 'skip' (opt-in)", () => {
    const PLIST = '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE plist PUBLIC "-//Apple Computer//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">\n<plist version="1.0">\n<dict/>\n</plist>\n';

    it('skips a DOCTYPE without an internal subset, in any chunking, and still counts its lines', () => {
      for (const size of [Infinity, 1, 9]) {
        const out: string[] = [];
        const s = new XmlScanner({ open: (t) => out.push(`${t.name} L${t.line}`) }, 'lib.xml', { doctype: 'skip' });
        const buf = Buffer.from(PLIST.replace('PUBLIC', '\nPUBLIC'));
        for (let i = 0; i < buf.length; i += Math.min(size, buf.length)) s.write(buf.subarray(i, i + size));
        s.end();
        expect(out).toEqual(['plist L4', 'dict L5']);
      }
    });

    it('stays refused by default', () => {
      expect(() => new XmlScanner({}, 'lib.xml').write(Buffer.from(PLIST))).toThrow(/lib\.xml: line 2: DTD not allowed/);
    });

    const refused: Array<[string, string, RegExp]> = [
      ['an internal subset', '<!DOCTYPE x [ <!ENTITY e "boom"> ]>\n<x>&e;</x>', /internal subset is not allowed/],
      ['an internal subset after an external id', '<!DOCTYPE x SYSTEM "x.dtd" [\n<!ENTITY xxe SYSTEM "file:///etc/passwd">]><x>&xxe;</x>', /internal subset is not allowed/],
      ['a second DOCTYPE', '<!DOCTYPE x>\n<!DOCTYPE x><x/>', /a second DOCTYPE/],
      ['a DOCTYPE after the root', '<x><!DOCTYPE x></x>', /a DOCTYPE after the root element/],
      ['an entity the skipped DOCTYPE cannot declare', '<!DOCTYPE x SYSTEM "x.dtd">\n<x>&e;</x>', /entity &e; is not allowed/],
    ];
    for (const [what, doc, message] of refused) {
      it(`refuses ${what}, in any chunking`, () => {
        for (const size of [Infinity, 1, 4]) {
          const buf = Buffer.from(doc);
          const s = new XmlScanner({ text: () => {} }, 'lib.xml', { doctype: 'skip' });
          expect(() => {
            for (let i = 0; i < buf.length; i += Math.min(size, buf.length)) s.write(buf.subarray(i, i + size));
            s.end();
          }, `chunks of ${size}`).toThrow(message);
        }
      });
    }
  });
});
