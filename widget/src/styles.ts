/**
 * The widget's styles, applied inside its shadow root so neither the page's CSS nor the widget's
 * leak across. `all: initial` on the host stops inherited page styles (fonts, colours, line height).
 */
export const STYLES = `
:host{all:initial;position:fixed;right:20px;bottom:20px;z-index:2147483000;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1a1a1a}
*{box-sizing:border-box}
.vh{position:absolute;width:1px;height:1px;margin:-1px;padding:0;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap;border:0}
button,textarea{font:inherit;color:inherit}
button{cursor:pointer}
:focus-visible{outline:3px solid #f5a623;outline-offset:2px}
.launcher{display:block;margin-left:auto;border:0;border-radius:24px;padding:12px 20px;background:#1f4fd1;color:#fff;font-weight:600;box-shadow:0 4px 14px rgba(0,0,0,.25)}
.launcher[aria-expanded="true"]{display:none}
.panel{display:flex;flex-direction:column;width:min(380px,calc(100vw - 40px));height:min(540px,calc(100vh - 40px));background:#fff;border:1px solid #c9ced6;border-radius:14px;box-shadow:0 10px 32px rgba(0,0,0,.22);overflow:hidden}
.panel[hidden]{display:none}
header{display:flex;align-items:center;justify-content:space-between;padding:10px 14px;background:#1f4fd1;color:#fff}
h2{margin:0;font-size:16px;font-weight:600}
.close{border:0;background:transparent;color:#fff;font-size:22px;line-height:1;padding:2px 8px;border-radius:6px}
.log{flex:1;overflow-y:auto;margin:0;padding:14px;list-style:none;display:flex;flex-direction:column;gap:10px;background:#f6f7f9}
.msg{max-width:85%;padding:8px 12px;border-radius:12px;white-space:pre-wrap;overflow-wrap:anywhere}
.user{align-self:flex-end;background:#1f4fd1;color:#fff;border-bottom-right-radius:4px}
.assistant{align-self:flex-start;background:#fff;border:1px solid #dde1e7;border-bottom-left-radius:4px}
.assistant[data-state="streaming"] .text::after{content:"\\2026";color:#5b6472}
.notice{margin:0;padding:8px 14px;background:#fff4e5;color:#6b3d00;border-top:1px solid #f0d2a8}
.notice:empty{display:none}
form{display:flex;gap:8px;padding:10px;border-top:1px solid #dde1e7;background:#fff}
textarea{flex:1;resize:none;min-height:44px;max-height:120px;padding:10px;border:1px solid #8a93a3;border-radius:8px;background:#fff}
.send{border:0;border-radius:8px;padding:0 16px;background:#1f4fd1;color:#fff;font-weight:600}
.send:disabled{background:#8a93a3;cursor:not-allowed}
`;
