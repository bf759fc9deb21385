/**
 * The `text/event-stream` format, parsed as the WHATWG HTML standard describes it (§9.2.6
 * "Interpreting an event stream"): lines end in CR LF, LF or CR (also when a CR LF pair is
 * split across two chunks); `:` starts a comment; `data` lines of one event are joined with
 * LF; `id` sets the last event ID (unless it holds NUL) and keeps it for later events;
 * `retry` sets the reconnection time when it is all digits; an event without data is not
 * dispatched; an unterminated event at the end of the stream is discarded.
 */

/** One dispatched event. */
export interface SseEvent {
  /** The `event` field, or `message` when the event had none. */
  readonly type: string;
  /** The `data` lines joined with LF. */
  readonly data: string;
  /** The last event ID in force when the event was dispatched (`''` when none was ever set). */
  readonly lastEventId: string;
}

/** What the parser reports. */
export interface SseHandlers {
  onEvent(event: SseEvent): void;
  /** A `retry` field: the server's reconnection time in milliseconds. */
  onRetry?(ms: number): void;
  /** A comment line (heartbeats), without its leading colon. */
  onComment?(text: string): void;
}

/** An incremental parser of one event stream connection. */
export interface SseParser {
  /** Parses the next piece of decoded text; complete events are dispatched before it returns. */
  feed(text: string): void;
  /** The last event ID string, as a reconnecting client sends it in `Last-Event-ID`. */
  readonly lastEventId: string;
}

const LINE_END = /\r\n|\r|\n/g;

/**
 * Creates a parser for one connection.
 * @param handlers where events, retry times and comments go
 * @param lastEventId the last event ID carried over from an earlier connection
 * @returns the parser
 * @example
 * const parser = createSseParser({ onEvent: (e) => { handle(e.type, JSON.parse(e.data)); } });
 * parser.feed('event: block\ndata: {"number":1}\nid: 1\n\n');
 */
export function createSseParser(handlers: SseHandlers, lastEventId = ''): SseParser {
  let buffer = '';
  let atStart = true;
  let skipLeadingLf = false;
  let data = '';
  let hasData = false;
  let eventType = '';
  let idBuffer = lastEventId;
  let lastId = lastEventId;

  const dispatch = (): void => {
    lastId = idBuffer;
    if (!hasData) {
      eventType = '';
      return;
    }
    const event: SseEvent = { type: eventType === '' ? 'message' : eventType, data: data.endsWith('\n') ? data.slice(0, -1) : data, lastEventId: lastId };
    data = '';
    hasData = false;
    eventType = '';
    handlers.onEvent(event);
  };

  const field = (name: string, value: string): void => {
    switch (name) {
      case 'event':
        eventType = value;
        break;
      case 'data':
        data += `${value}\n`;
        hasData = true;
        break;
      case 'id':
        if (!value.includes('\0')) idBuffer = value;
        break;
      case 'retry':
        if (/^\d+$/.test(value)) handlers.onRetry?.(Number(value));
        break;
      default:
        // Unknown fields are ignored, as the standard requires.
        break;
    }
  };

  const line = (text: string): void => {
    if (text === '') {
      dispatch();
      return;
    }
    if (text.startsWith(':')) {
      handlers.onComment?.(text.slice(1).replace(/^ /, ''));
      return;
    }
    const colon = text.indexOf(':');
    if (colon === -1) {
      field(text, '');
      return;
    }
    const value = text.slice(colon + 1);
    field(text.slice(0, colon), value.startsWith(' ') ? value.slice(1) : value);
  };

  return {
    feed(text) {
      if (text === '') return;
      let chunk = skipLeadingLf && text.startsWith('\n') ? text.slice(1) : text;
      skipLeadingLf = false;
      if (atStart) {
        atStart = false;
        if (chunk.startsWith('\uFEFF')) chunk = chunk.slice(1);
      }
      buffer += chunk;
      let consumed = 0;
      for (const m of buffer.matchAll(LINE_END)) {
        line(buffer.slice(consumed, m.index));
        consumed = m.index + m[0].length;
      }
      buffer = buffer.slice(consumed);
      // A CR that ends this chunk may be the first half of a CR LF pair.
      skipLeadingLf = chunk.endsWith('\r');
    },
    get lastEventId() {
      return lastId;
    },
  };
}
