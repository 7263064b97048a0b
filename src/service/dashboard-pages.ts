/**
 * The few HTML pages the service answers itself, before the dashboard's own
 * page is reached: not logged in, a used login link, a refusal. Static text,
 * no script, no style, no outside resources; the headers every page of the
 * dashboard carries (docs/dashboard.md, Access). Their CSP forbids inline
 * style as it does inline script, so these pages have none: the browser's
 * own style shows them, with no CSP violation.
 */

/** Headers for every HTML response of the dashboard: no framing, no scripts from elsewhere, no referrer, no sniffing. */
export const PAGE_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

/** escapeHtml makes `s` safe as HTML text or a quoted attribute value. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

/**
 * page is a complete HTML document: `title` as its heading and each of
 * `lines` as a paragraph, all escaped; `code` spans (between backticks) are
 * shown as code.
 */
function page(title: string, lines: readonly string[]): string {
  const para = (l: string) => `<p>${escapeHtml(l).replace(/`([^`]+)`/g, '<code>$1</code>')}</p>`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>cratesync: ${escapeHtml(title)}</title>
</head>
<body>
<h1>${escapeHtml(title)}</h1>
${lines.map(para).join('\n')}
</body>
</html>
`;
}

/** The page for a request without the session cookie or the token (401). */
export function loginNeededPage(): string {
  return page('Not logged in', [
    'Open the dashboard with `cratesync dashboard`: it opens your browser on a one-time login link.',
    'With `cratesync dashboard --no-open` it prints the link instead.',
  ]);
}

/** The page for a login link that was used, has expired or never existed (403). */
export function linkUsedPage(): string {
  return page('This login link no longer works', [
    'A login link works once, for 10 minutes. This one was used already or has expired.',
    'Run `cratesync dashboard` again for a new one.',
  ]);
}

/** The page for any other refusal of a page (a foreign Host or Origin): the reason as text. */
export function refusedPage(status: number, reason: string): string {
  return page(status === 401 ? 'Not logged in' : 'Refused', [reason]);
}
