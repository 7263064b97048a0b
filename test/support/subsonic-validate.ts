/**
 * Validators of Subsonic responses for tests: JSON against the OpenSubsonic
 * JSON schemas (test/fixtures/opensubsonic/, see its NOTICE.md), XML against
 * the Subsonic 1.16.1 XSD (test/fixtures/subsonic/) with the real xmllint
 * (Debian's libxml2-utils; .ci/run installs it).
 *
 * OpenSubsonic answers carry what the 1.16.1 XSD does not know: the
 * envelope's `type`, `serverVersion` and `openSubsonic`, and OpenSubsonic
 * fields on songs, albums, artists and playlists (attributes like
 * `mediaType`, `sortName`, `displayArtist`; child elements like `genres`,
 * `artists`, `albumArtists`). A strict 1.16.1 client ignores them, and so
 * does validateXml: it removes every attribute and element the XSD does not
 * declare at that place (worked out from the XSD itself: the element's type,
 * with what its base types declare), validates what is left, and returns the
 * removed ones as `extras` so that a test can look at them. Everything the
 * XSD does declare is checked as the XSD says (types, required attributes,
 * order, enumerations), and an element it declares nowhere under the root is
 * no extra but removed the same way, so a test that must see an element
 * checks `extras` too.
 */
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
// ajv is CommonJS: the class is its named export too, which NodeNext types see (the default is the module).
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ValidateFunction } from 'ajv/dist/2020.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));
const JSON_SCHEMAS = join(FIXTURES, 'opensubsonic');
/** The Subsonic API's XSD; xmllint reads it. */
export const SUBSONIC_XSD = join(FIXTURES, 'subsonic', 'subsonic-rest-api-1.16.1.xsd');

function jsonFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    return e.isDirectory() ? jsonFiles(p) : e.name.endsWith('.json') ? [p] : [];
  });
}

let ajv: Ajv2020 | undefined;
const compiled = new Map<string, ValidateFunction>();

/** The schemas, each under its file URL as $id, so that their relative $refs resolve as in the repository. */
function schemas(): Ajv2020 {
  if (ajv) return ajv;
  const a = new Ajv2020({ allErrors: true, strict: true, strictTypes: false, strictRequired: false });
  // OpenAPI annotations the schemas carry: no validation meaning.
  a.addKeyword('externalDocs');
  a.addKeyword('example');
  a.addFormat('date-time', { type: 'string', validate: (s: string) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/.test(s) && !Number.isNaN(Date.parse(s)) });
  a.addFormat('float', { type: 'number', validate: () => true });
  a.addFormat('binary', { type: 'string', validate: () => true });
  for (const file of jsonFiles(JSON_SCHEMAS)) {
    const schema = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    a.addSchema({ ...schema, $id: pathToFileURL(file).href });
  }
  ajv = a;
  return a;
}

/** The schema a method's answer is checked against: its endpoint's `<Method>Response.json`, else the empty response. */
function schemaFile(method: string): string {
  const name = `${method.charAt(0).toUpperCase()}${method.slice(1)}Response.json`;
  const own = join(JSON_SCHEMAS, 'endpoints', method, name);
  try {
    readFileSync(own);
    return own;
  } catch {
    return join(JSON_SCHEMAS, 'schemas', 'SubsonicResponse.json');
  }
}

/**
 * validateJson checks a JSON answer of `method` (the parsed body, or its
 * text) against OpenSubsonic's schema for it (an ok or a failed response);
 * a method without a schema of its own (ping, star…) against the plain
 * response. Returns the errors as `<where>: <what>` lines; none when valid.
 * Throws when `method` names nothing (a schema file missing is a test bug).
 */
export function validateJson(method: string, body: unknown): string[] {
  if (!/^[A-Za-z0-9]+$/.test(method)) throw new Error(`validateJson: no such method name: ${method}`);
  const doc: unknown = typeof body === 'string' ? JSON.parse(body) : body;
  const file = schemaFile(method);
  let check = compiled.get(file);
  if (!check) {
    check = schemas().getSchema(pathToFileURL(file).href);
    if (!check) throw new Error(`validateJson: schema not loaded: ${relative(FIXTURES, file)}`);
    compiled.set(file, check);
  }
  if (check(doc)) return [];
  return (check.errors ?? []).map((e) => `${e.instancePath || '/'}: ${e.message ?? 'invalid'}${e.params && Object.keys(e.params).length ? ` ${JSON.stringify(e.params)}` : ''}`);
}

/** What validateXml found: the XSD's errors, and what it removed before validating (see the top). */
export interface XmlValidation {
  /** xmllint's messages; empty when valid. */
  errors: string[];
  /** `<element path>@<attribute>` or `<element path>/<element>` of each extra removed, in document order. */
  extras: string[];
}

/**
 * validateXml validates an XML answer against the Subsonic 1.16.1 XSD with
 * xmllint, after removing what the XSD does not declare (see the top).
 * Throws when xmllint cannot be run (not installed: apt-get install
 * libxml2-utils) or the XML is not well-formed enough to walk.
 */
export async function validateXml(xml: string): Promise<XmlValidation> {
  const { text, extras } = stripExtras(xml, xsdModel());
  const errors = await new Promise<string[]>((resolve, reject) => {
    const child = execFile('xmllint', ['--noout', '--nonet', '--schema', SUBSONIC_XSD, '-'], { maxBuffer: 16 * 1024 * 1024 }, (err, _out, stderr) => {
      if (err && (err as NodeJS.ErrnoException).code === 'ENOENT') return reject(new Error('xmllint is not installed (Debian: apt-get install libxml2-utils)'));
      const lines = stderr
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l !== '' && !/validates$/.test(l));
      if (err && lines.length === 0) return reject(err);
      resolve(err ? lines : []);
    });
    child.stdin?.end(text);
  });
  return { errors, extras };
}

// ---- what the XSD declares, and removing the rest ----

interface XsdType {
  attributes: Set<string>;
  /** Child element name → its type's name (`sub:` dropped; `xs:…` for a simple one). */
  elements: Map<string, string>;
  base?: string;
}

interface Model {
  types: Map<string, XsdType>;
  root: { name: string; type: string };
}

let model: Model | undefined;

/** The XSD as `type → the attributes and child elements it declares` (it uses named types only, no groups). */
function xsdModel(): Model {
  if (model) return model;
  const xsd = readFileSync(SUBSONIC_XSD, 'utf8').replace(/<!--[\s\S]*?-->/g, '');
  const types = new Map<string, XsdType>();
  let current: XsdType | undefined;
  let root: Model['root'] | undefined;
  for (const t of tags(xsd)) {
    if (t.kind === 'close') {
      if (t.name === 'xs:complexType') current = undefined;
      continue;
    }
    const a = t.attrs;
    const bare = (s: string | undefined) => (s ?? '').replace(/^sub:/, '');
    if (t.name === 'xs:complexType') {
      current = { attributes: new Set(), elements: new Map() };
      types.set(a.get('name') ?? '', current);
    } else if (t.name === 'xs:attribute' && current) {
      current.attributes.add(a.get('name') ?? '');
    } else if (t.name === 'xs:element') {
      if (current) current.elements.set(a.get('name') ?? '', bare(a.get('type')));
      else root = { name: a.get('name') ?? '', type: bare(a.get('type')) };
    } else if (t.name === 'xs:extension' && current) {
      current.base = bare(a.get('base'));
    }
  }
  if (!root) throw new Error(`${SUBSONIC_XSD}: no root element`);
  model = { types, root };
  return model;
}

/** What type `name` declares, with what its bases declare. */
function declared(m: Model, name: string): XsdType {
  const own = m.types.get(name);
  if (!own) return { attributes: new Set(), elements: new Map() };
  if (!own.base) return own;
  const base = declared(m, own.base);
  return { attributes: new Set([...base.attributes, ...own.attributes]), elements: new Map([...base.elements, ...own.elements]) };
}

type Tag = { kind: 'open' | 'empty' | 'close'; name: string; attrs: Map<string, string>; start: number; end: number };

/** The tags of a simple XML text (ours and the XSD: no DOCTYPE, no CDATA), in order. */
function* tags(xml: string): Generator<Tag> {
  const re = /<(\/?)([A-Za-z_][\w:.-]*)((?:\s+[\w:.-]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/?)>/g;
  for (let m = re.exec(xml); m; m = re.exec(xml)) {
    const attrs = new Map<string, string>();
    for (const [, k, dq, sq] of (m[3] ?? '').matchAll(/([\w:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g)) attrs.set(k!, dq ?? sq ?? '');
    yield { kind: m[1] ? 'close' : m[4] ? 'empty' : 'open', name: m[2]!, attrs, start: m.index, end: m.index + m[0].length };
  }
}

/** The text between two tags; none when only blanks (indentation), which would be content where the XSD allows none once an extra is gone. */
function between(src: string, from: number, to: number): string {
  const s = src.slice(from, to);
  return /^\s*$/.test(s) ? '' : s;
}

/** Removes from `xml` the attributes and elements the XSD does not declare where they are; returns what is left and them. */
function stripExtras(xml: string, m: Model): { text: string; extras: string[] } {
  const extras: string[] = [];
  let out = '';
  let at = 0;
  /** Open elements: their path and type; `skip` when inside a removed element. */
  const stack: Array<{ path: string; type?: XsdType; skip: boolean }> = [];
  const src = xml.replace(/<!--[\s\S]*?-->/g, '');
  for (const t of tags(src)) {
    const parent = stack.at(-1);
    if (t.kind === 'close') {
      const me = stack.pop();
      if (!me) throw new Error(`validateXml: </${t.name}> closes nothing`);
      if (me.skip && !stack.at(-1)?.skip) at = t.end; // the removed element ends here
      else if (!me.skip) {
        out += `${between(src, at, t.start)}</${t.name}>`;
        at = t.end;
      }
      continue;
    }
    if (parent?.skip) {
      if (t.kind === 'open') stack.push({ path: '', skip: true });
      continue;
    }
    let typeName: string | undefined;
    const path = parent ? `${parent.path}/${t.name}` : t.name;
    if (!parent) typeName = t.name === m.root.name ? m.root.type : undefined;
    else typeName = parent.type?.elements.get(t.name);
    if (parent && typeName === undefined) {
      extras.push(`${parent.path}/${t.name}`);
      out += between(src, at, t.start);
      at = t.end; // an empty element ends here; an open one at its close tag
      if (t.kind === 'open') stack.push({ path, skip: true });
      continue;
    }
    const type = typeName === undefined ? undefined : declared(m, typeName);
    // Copy the tag, leaving out undeclared attributes (xmlns is no attribute to the XSD); where the type
    // is unknown (another root), every attribute stays, for xmllint to judge.
    out += between(src, at, t.start);
    let tag = `<${t.name}`;
    for (const [k, v] of t.attrs) {
      if (k === 'xmlns' || k.startsWith('xmlns:') || !type || type.attributes.has(k)) tag += v.includes('"') ? ` ${k}='${v}'` : ` ${k}="${v}"`;
      else extras.push(`${path}@${k}`);
    }
    out += `${tag}${t.kind === 'empty' ? '/>' : '>'}`;
    at = t.end;
    if (t.kind === 'open') stack.push({ path, ...(type ? { type } : {}), skip: false });
  }
  if (stack.length > 0) throw new Error(`validateXml: <${stack.at(-1)!.path}> is never closed`);
  return { text: out + src.slice(at), extras };
}
