/**
 * The embeddable chat widget. Either
 *   <script src=".../widget.js" data-api-url="…" data-widget-key="…" async></script>
 * or, for token mode and other options,
 *   ChatWidget.init({ apiUrl, widgetKey, getToken })
 */
import { createWidget, type WidgetHandle, type WidgetOptions } from './widget.js';

/** The global `ChatWidget`. */
export interface ChatWidgetApi {
  /** Mounts a widget; throws `TypeError` for a missing `widgetKey` or a bad `apiUrl`. */
  init(options: WidgetOptions): WidgetHandle;
}

declare global {
  interface Window {
    ChatWidget?: ChatWidgetApi;
  }
}

const api: ChatWidgetApi = { init: createWidget };
// Loaded twice: the first copy stays (it may already own widgets).
window.ChatWidget ??= api;

// Read while the script runs: `currentScript` is null afterwards.
const script = document.currentScript;
if (script instanceof HTMLScriptElement && script.dataset.apiUrl && script.dataset.widgetKey) {
  const options: WidgetOptions = {
    apiUrl: script.dataset.apiUrl,
    widgetKey: script.dataset.widgetKey,
    ...(script.dataset.title ? { title: script.dataset.title } : {}),
    ...(script.dataset.stream === 'false' ? { stream: false } : {}),
    ...(script.dataset.wafIntegrationUrl ? { wafIntegrationUrl: script.dataset.wafIntegrationUrl } : {}),
  };
  const start = () => void createWidget(options);
  if (document.body) start();
  else document.addEventListener('DOMContentLoaded', start, { once: true });
}
