/**
 * The chat panel: a launcher button and a dialog in a shadow root. Everything the user or the model
 * wrote is put on the page as text (`textContent`, `Text` nodes), never parsed as HTML.
 */
import { ChatClient, type ChatClientOptions } from './client.js';
import { ChatError, friendlyMessage } from './errors.js';
import { storedSession } from './session.js';
import { STYLES } from './styles.js';
import { solvePow } from './pow.js';
import { visitorTokens } from './visitor.js';
import { wafTokens } from './waf.js';

/** Options of `ChatWidget.init`. */
export interface WidgetOptions extends ChatClientOptions {
  /** The panel's heading. @default 'Chat' */
  readonly title?: string;
  /** Open the panel at once. @default false */
  readonly open?: boolean;
}

/** What `ChatWidget.init` returns. */
export interface WidgetHandle {
  open(): void;
  close(): void;
  /** Removes the widget and stops any answer in flight. */
  destroy(): void;
}

/** The longest message the API accepts. */
const MAX_MESSAGE_CHARS = 4000;

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Record<string, string> = {},
  text = '',
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
  element.textContent = text;
  return element;
}

function applyStyles(root: ShadowRoot): void {
  // A constructed stylesheet needs no 'unsafe-inline' in the page's style-src.
  if ('adoptedStyleSheets' in root && typeof CSSStyleSheet === 'function' && 'replaceSync' in CSSStyleSheet.prototype) {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(STYLES);
    root.adoptedStyleSheets = [sheet];
  } else {
    root.append(el('style', {}, STYLES));
  }
}

/** Builds the widget and mounts it at the end of `document.body`. */
export function createWidget(options: WidgetOptions): WidgetHandle {
  if (typeof options.widgetKey !== 'string' || options.widgetKey === '') {
    throw new TypeError('ChatWidget: widgetKey is required');
  }
  // Relative to the page, so a same-origin page may say "/".
  let apiUrl: URL | undefined;
  try {
    apiUrl = new URL(String(options.apiUrl), document.baseURI);
  } catch {
    apiUrl = undefined;
  }
  if (!apiUrl || !/^https?:$/.test(apiUrl.protocol)) throw new TypeError('ChatWidget: apiUrl must be an http(s) URL');
  if (!apiUrl.pathname.endsWith('/')) apiUrl.pathname += '/';
  // Anonymous mode: a visitor token of the widget's own, paid for with a proof of work (design §14).
  const visitor = options.getToken
    ? undefined
    : visitorTokens({
        apiUrl: apiUrl.href,
        widgetKey: options.widgetKey,
        solve: solvePow,
        storage: () => window.sessionStorage,
        ...(options.wafIntegrationUrl === undefined ? {} : { wafToken: wafTokens(options.wafIntegrationUrl) }),
        ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
      });
  const client = new ChatClient({
    ...options,
    apiUrl: apiUrl.href,
    ...(visitor ? { getToken: visitor.getToken, forgetToken: visitor.forget } : {}),
  });
  const session = storedSession(
    () => window.sessionStorage,
    `chat-widget:${options.getToken ? 'user' : 'anonymous'}:session`,
  );

  const host = el('div', { 'data-chat-widget': '' });
  const root = host.attachShadow({ mode: 'open' });
  applyStyles(root);

  const launcher = el(
    'button',
    { type: 'button', class: 'launcher', 'aria-expanded': 'false', 'aria-controls': 'panel' },
    'Chat',
  );
  const panel = el('section', { id: 'panel', class: 'panel', role: 'dialog', 'aria-labelledby': 'title' });
  panel.hidden = true;
  const header = el('header');
  const close = el('button', { type: 'button', class: 'close', 'aria-label': 'Close chat' }, '\u00d7');
  header.append(el('h2', { id: 'title' }, options.title ?? 'Chat'), close);
  const log = el('ol', { class: 'log', role: 'log', 'aria-live': 'polite', 'aria-label': 'Conversation' });
  const notice = el('p', { class: 'notice', role: 'alert' });
  const form = el('form');
  const input = el('textarea', {
    id: 'message',
    rows: '2',
    maxlength: String(MAX_MESSAGE_CHARS),
    placeholder: 'Type your message',
    autocomplete: 'off',
  });
  const send = el('button', { type: 'submit', class: 'send' }, 'Send');
  form.append(el('label', { for: 'message', class: 'vh' }, 'Message'), input, send);
  panel.append(header, log, notice, form);
  root.append(launcher, panel);

  let inFlight: AbortController | undefined;

  const setOpen = (open: boolean): void => {
    panel.hidden = !open;
    launcher.setAttribute('aria-expanded', String(open));
    (open ? input : launcher).focus();
  };

  const addMessage = (role: 'user' | 'assistant', text: string): { item: HTMLLIElement; text: Text } => {
    const item = el('li', { class: `msg ${role}` });
    const body = el('span', { class: 'text' });
    const node = document.createTextNode(text);
    body.append(node);
    item.append(el('span', { class: 'vh' }, role === 'user' ? 'You: ' : 'Assistant: '), body);
    log.append(item);
    log.scrollTop = log.scrollHeight;
    return { item, text: node };
  };

  const ask = async (message: string): Promise<void> => {
    const controller = new AbortController();
    inFlight = controller;
    send.disabled = true;
    notice.textContent = '';
    addMessage('user', message);
    const answer = addMessage('assistant', '');
    answer.item.setAttribute('data-state', 'streaming');
    // Screen readers announce the answer once, when it is complete, not every word of it.
    log.setAttribute('aria-busy', 'true');
    try {
      for await (const event of client.send(session, message, controller.signal)) {
        if (event.type === 'token') answer.text.appendData(event.delta);
        else answer.text.data = event.content;
        log.scrollTop = log.scrollHeight;
      }
      answer.item.setAttribute('data-state', 'done');
    } catch (error) {
      if (controller.signal.aborted) return;
      if (answer.text.data === '') answer.item.remove();
      else answer.item.setAttribute('data-state', 'interrupted');
      notice.textContent = friendlyMessage(error instanceof ChatError ? error : new ChatError('UNKNOWN', 0));
    } finally {
      log.removeAttribute('aria-busy');
      if (inFlight === controller) {
        inFlight = undefined;
        send.disabled = false;
      }
    }
  };

  launcher.addEventListener('click', () => setOpen(true));
  close.addEventListener('click', () => setOpen(false));
  panel.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') {
      event.stopPropagation();
      setOpen(false);
    }
  });
  input.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const message = input.value.trim();
    if (message === '' || inFlight) return;
    input.value = '';
    void ask(message);
  });

  document.body.append(host);
  if (options.open) setOpen(true);

  return {
    open: () => setOpen(true),
    close: () => setOpen(false),
    destroy: () => {
      inFlight?.abort();
      host.remove();
    },
  };
}
