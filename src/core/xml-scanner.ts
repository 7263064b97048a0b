/**
 * A small, strict, streaming XML scanner over UTF-8 bytes (stub: interface first).
 */
import { CratesyncError } from '../errors.js';

/** Malformed or refused XML; the message is "<source>: line N: <what>". */
export class XmlError extends CratesyncError {
  constructor(
    readonly source: string,
    readonly line: number,
    message: string,
  ) {
    super(`${source}: line ${line}: ${message}`);
  }
}

/** A start tag or empty-element tag, valid only during the handler call that receives it. */
export interface XmlTag {
  /** Element name. */
  readonly name: string;
  /** True for `<x/>`. */
  readonly selfClosing: boolean;
  /** Line of the '<'. */
  readonly line: number;
  /** Decoded (XML-unescaped) value of attribute `name`, or undefined. */
  attr(name: string): string | undefined;
  /** Absolute byte offsets [start, end) in the whole input of the RAW value of attribute `name` (between the quotes). */
  span(name: string): readonly [number, number] | undefined;
}

/** What the scanner reports. */
export interface XmlHandler {
  /** A start tag or empty-element tag (then close is ALSO called right after, with the same name). */
  open?(tag: XmlTag): void;
  close?(name: string): void;
}

/** Streaming scanner: feed chunks with write(), finish with end(). */
export class XmlScanner {
  private settledAt = 0;

  constructor(
    private readonly handler: XmlHandler,
    private readonly source: string,
  ) {}

  /** Feeds the next chunk; throws XmlError at the first malformation. Offsets count bytes from the start of all input. */
  write(chunk: Buffer): void {
    void chunk;
    void this.handler;
    throw new XmlError(this.source, 0, 'not implemented');
  }

  /** Ends the input: throws XmlError when elements are unclosed, no root element, etc. */
  end(): void {
    throw new XmlError(this.source, 0, 'not implemented');
  }

  /** Bytes of input before which the scanner holds nothing any more: a rewriter may flush output up to here. */
  get settled(): number {
    return this.settledAt;
  }
}
