/**
 * The demo page (`GET /demo` on the local server): the widget embedded against the same server,
 * anonymously (the script-tag embed) or in token mode (`ChatWidget.init` with a `getToken` that
 * calls the local-only `POST /demo/token`, standing in for a customer backend).
 */

/** The two ways a page can embed the widget. */
export type DemoMode = 'anonymous' | 'token';

export interface DemoPageInput {
  /** The CSP nonce of this response's inline style and scripts. */
  readonly nonce: string;
  /** The publishable widget key. */
  readonly widgetKey: string;
  readonly mode: DemoMode;
}

const ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Escapes text for an HTML text node or a quoted attribute. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ESCAPES[c] as string);
}

function embed({ nonce, widgetKey, mode }: DemoPageInput): string {
  const n = escapeHtml(nonce);
  const key = escapeHtml(widgetKey);
  if (mode === 'anonymous') {
    return `<script nonce="${n}" src="/widget.js" data-api-url="/" data-widget-key="${key}" data-title="Demo assistant" async></script>`;
  }
  // Token mode: the page hands the widget a getToken callback. A customer page would call its own
  // backend, which mints the token with POST /v1/tokens (server key) or signs it itself.
  return `<script nonce="${n}" id="chat-widget-script" src="/widget.js" async></script>
<script nonce="${n}" data-widget-key="${key}">
  (() => {
    const { widgetKey } = document.currentScript.dataset;
    const script = document.getElementById('chat-widget-script');
    const start = () =>
      window.ChatWidget.init({
        apiUrl: '/',
        widgetKey,
        title: 'Demo assistant (signed in)',
        getToken: async () => {
          const response = await fetch('/demo/token', { method: 'POST' });
          if (!response.ok) throw new Error('no demo token');
          return (await response.json()).token;
        },
      });
    if (window.ChatWidget) start();
    else script.addEventListener('load', start, { once: true });
  })();
</script>`;
}

/** The demo page's HTML. */
export function demoPage(input: DemoPageInput): string {
  const anonymous = input.mode === 'anonymous';
  const current = (yes: boolean) => (yes ? ' aria-current="page"' : '');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Chat widget demo</title>
<style nonce="${escapeHtml(input.nonce)}">
  body { margin: 0; font: 16px/1.55 system-ui, sans-serif; color: #1a1a1a; background: #eef1f5; }
  main { max-width: 720px; margin: 0 auto; padding: 40px 24px 120px; }
  h1 { margin-top: 0; }
  nav a { margin-right: 16px; }
  nav a[aria-current] { font-weight: 700; }
  code { background: #dde3ea; padding: 1px 5px; border-radius: 4px; }
</style>
</head>
<body>
<main>
<h1>Chat widget demo</h1>
<nav aria-label="Demo mode">
  <a href="/demo"${current(anonymous)}>Anonymous (widget key)</a>
  <a href="/demo?mode=token"${current(!anonymous)}>Token mode (signed-in user)</a>
</nav>
${
  anonymous
    ? `<p>This page embeds the widget with one script tag: <code>data-api-url</code> and the publishable
<code>data-widget-key</code>. Visitors are anonymous: the widget solves a small proof of work in a Web Worker and
gets a visitor token of its own, so it works with tokens required (the page's CSP allows
<code>worker-src blob:</code>).</p>`
    : `<p>This page calls <code>ChatWidget.init</code> with a <code>getToken</code> callback. Here it asks the
local-only <code>POST /demo/token</code> for a short-lived token of <code>demo-user</code>; your page would ask your
backend, which calls <code>POST /v1/tokens</code>. An expired token is refreshed once.</p>`
}
<p>Open the chat with the button in the corner. The local echo model answers
&ldquo;Echo: &hellip;&rdquo;, streamed word by word.</p>
</main>
${embed(input)}
</body>
</html>
`;
}
