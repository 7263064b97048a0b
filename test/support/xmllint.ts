/**
 * xmllint (libxml2-utils) as a judge of well-formedness, for tests of the XML
 * cratesync writes: a real parser, not a regular expression.
 */
import { execFileSync } from 'node:child_process';

/** xmlProblems returns '' when `xml` is well-formed, else xmllint's complaint. */
export function xmlProblems(xml: string): string {
  try {
    execFileSync('xmllint', ['--noout', '-'], { input: xml, stdio: ['pipe', 'pipe', 'pipe'] });
    return '';
  } catch (err) {
    return String((err as { stderr?: Buffer }).stderr ?? err);
  }
}
