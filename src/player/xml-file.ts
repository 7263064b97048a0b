/**
 * Streams a player's XML library file through the project's scanner: the
 * file is never held whole (iTunes libraries reach 100 MB), and whatever
 * goes wrong is a FileError naming the file.
 */
import { createReadStream } from 'node:fs';
import { XmlError, XmlScanner, type XmlHandler, type XmlScannerOptions, type XmlText } from '../core/xml-scanner.js';
import { FileError } from '../errors.js';

/** Bytes read at a time: big enough that per-chunk costs vanish, small enough to stay out of the way. */
const CHUNK = 1024 * 1024;

/**
 * scanXmlFile feeds `file` to a scanner with `handler` and ends it. Throws
 * FileError naming the file when it cannot be read, when the XML is
 * malformed or truncated, or refused (a DTD with an internal subset, an
 * entity); a FileError a handler throws passes unchanged. Other handler
 * errors are bugs and pass unchanged too.
 */
export async function scanXmlFile(file: string, handler: XmlHandler, options: XmlScannerOptions = {}): Promise<void> {
  const scanner = new XmlScanner(handler, file, options);
  try {
    for await (const chunk of createReadStream(file, { highWaterMark: CHUNK })) scanner.write(chunk as Buffer);
    scanner.end();
  } catch (err) {
    if (err instanceof XmlError) throw new FileError(file, `line ${err.line}: ${err.message.slice(err.source.length + `: line ${err.line}: `.length)}`, { cause: err });
    if (err instanceof FileError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (typeof code === 'string') throw new FileError(file, code === 'ENOENT' ? 'no such file' : `cannot read it (${code})`, { cause: err });
    throw err;
  }
}

/** Text of one element, gathered over the runs a scanner reports (a comment splits a run). */
export class TextBuffer {
  private value = '';
  on = false;

  start(): void {
    this.value = '';
    this.on = true;
  }

  /** Gathers `run` when started (decoding it only then). */
  add(run: XmlText): void {
    if (this.on) this.value = this.value === '' ? run.value() : this.value + run.value();
  }

  /** The text since start(), and stops gathering. */
  take(): string {
    this.on = false;
    const s = this.value;
    this.value = '';
    return s;
  }
}
