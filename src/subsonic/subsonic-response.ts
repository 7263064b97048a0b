/**
 * Writing a `subsonic-response`: the payload a handler returned (or a
 * protocol error) inside the envelope, as XML (the default), JSON (`f=json`)
 * or JSONP (`f=jsonp&callback=name`). Errors are HTTP 200 with
 * `status="failed"` and `error: {code, message}`, as the spec wants.
 *
 * XML is derived from the JSON shape by one rule: a scalar field is an
 * attribute, an object an element, an array repeated elements named by the
 * field (scalars in an array become elements with text), and a field named
 * `value` the element's text. Strings may hold anything a tag or a key held,
 * so every string is escaped and stripped of the characters XML 1.0 forbids.
 */
import { SubsonicCode, SubsonicError } from './api-error.js';
import type { Params, SubsonicBody } from './route-types.js';

/** The Subsonic REST API version cratesync speaks. */
export const API_VERSION = '1.16.1';
const TYPE = 'cratesync';

/** How to answer: `f` of the request. */
export type ResponseFormat = { kind: 'xml' } | { kind: 'json' } | { kind: 'jsonp'; callback: string };

const CALLBACK = /^[A-Za-z_$][\w$.]*$/;

/**
 * responseFormat reads `f` (and `callback` for jsonp). Unknown or absent `f`
 * is XML, as in the spec. Throws SubsonicError 10 when jsonp has no callback
 * and 0 when the callback is not a plain (dotted) identifier: a callback is
 * written into script, so nothing else may pass. The caller answers such an
 * error as JSON, which no browser runs.
 */
export function responseFormat(params: Params): ResponseFormat {
  const f = params.get('f');
  if (f === 'json') return { kind: 'json' };
  if (f === 'jsonp') {
    const callback = params.get('callback');
    if (!callback) throw new SubsonicError(SubsonicCode.missingParameter, 'Required parameter is missing: callback');
    if (callback.length > 128 || !CALLBACK.test(callback)) throw new SubsonicError(SubsonicCode.generic, 'Parameter callback is not a valid name');
    return { kind: 'jsonp', callback };
  }
  return { kind: 'xml' };
}

/** okResponse answers `body` with status ok. */
export function okResponse(body: SubsonicBody, format: ResponseFormat, serverVersion: string): Response {
  return render('ok', body, format, serverVersion);
}

/** errorResponse answers `err` as a failed response (HTTP 200, as the spec wants). */
export function errorResponse(err: SubsonicError, format: ResponseFormat, serverVersion: string): Response {
  return render('failed', { error: { code: err.code, message: err.message } }, format, serverVersion);
}

function envelope(status: 'ok' | 'failed', serverVersion: string): Record<string, unknown> {
  return { status, version: API_VERSION, type: TYPE, serverVersion, openSubsonic: true };
}

function render(status: 'ok' | 'failed', body: SubsonicBody, format: ResponseFormat, serverVersion: string): Response {
  const headers: Record<string, string> = { 'X-Content-Type-Options': 'nosniff' };
  if (format.kind === 'xml') {
    headers['Content-Type'] = 'text/xml; charset=utf-8';
    return new Response(toXml(envelope(status, serverVersion), body), { status: 200, headers });
  }
  const json = JSON.stringify({ 'subsonic-response': { ...envelope(status, serverVersion), ...body } });
  if (format.kind === 'json') {
    headers['Content-Type'] = 'application/json';
    return new Response(json, { status: 200, headers });
  }
  headers['Content-Type'] = 'application/javascript';
  // U+2028/2029 end a line in older script engines; the leading comment keeps
  // the body from starting with bytes of the caller's choosing (content sniffing).
  const safe = json.replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
  return new Response(`/**/${format.callback}(${safe});`, { status: 200, headers });
}

const NAME = /^[A-Za-z_][\w.-]*$/;
// Everything XML 1.0 does not allow: C0 controls but tab, LF and CR; U+FFFE/FFFF; lone surrogates.
const FORBIDDEN = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;', '\t': '&#9;', '\n': '&#10;', '\r': '&#13;' };

/** escapeXml makes `s` safe as XML text or attribute value: markup escaped, forbidden characters dropped. */
export function escapeXml(s: string, attribute = true): string {
  return s.replace(FORBIDDEN, '').replace(attribute ? /[&<>"'\t\n\r]/g : /[&<>"'\r]/g, (c) => ESCAPES[c] ?? c);
}

/**
 * toXml writes the whole document: the `subsonic-response` root with the
 * envelope's attributes, then the payload by the one rule. Throws Error for a
 * field name that is no XML name (a handler's bug, never user data).
 */
export function toXml(root: Record<string, unknown>, body: SubsonicBody): string {
  const out: string[] = ['<?xml version="1.0" encoding="UTF-8"?>\n'];
  element(out, 'subsonic-response', { ...root, ...body }, ' xmlns="http://subsonic.org/restapi"');
  return out.join('');
}

function scalarText(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : undefined;
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'bigint') return v.toString();
  return undefined;
}

function isScalar(v: unknown): boolean {
  return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint';
}

function checkName(name: string): void {
  if (!NAME.test(name)) throw new Error(`subsonic payload field ${JSON.stringify(name.slice(0, 40))} is no XML name`);
}

function element(out: string[], name: string, value: unknown, extra = ''): void {
  checkName(name);
  if (isScalar(value)) {
    const text = scalarText(value);
    out.push(text === undefined ? `<${name}/>` : `<${name}>${escapeXml(text, false)}</${name}>`);
    return;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    out.push(`<${name}${extra}/>`);
    return;
  }
  const attrs: string[] = [];
  const children: Array<[string, unknown]> = [];
  let text: string | undefined;
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (v === undefined || v === null) continue;
    if (k === 'value' && isScalar(v)) {
      text = scalarText(v);
    } else if (isScalar(v)) {
      const t = scalarText(v);
      if (t === undefined) continue;
      checkName(k);
      attrs.push(` ${k}="${escapeXml(t)}"`);
    } else if (!Array.isArray(v) || v.length > 0) {
      children.push([k, v]);
    }
  }
  out.push(`<${name}${extra}${attrs.join('')}`);
  if (children.length === 0 && text === undefined) {
    out.push('/>');
    return;
  }
  out.push('>');
  if (text !== undefined) out.push(escapeXml(text, false));
  for (const [k, v] of children) {
    if (Array.isArray(v)) for (const item of v) element(out, k, item);
    else element(out, k, v);
  }
  out.push(`</${name}>`);
}
