import { checkAuditEvent, parseAuditLine, type AuditEvent, type SkipReason, type TimedAuditEvent } from '../timeline/audit-event.js';
import { JsonScanner } from './json-scan.js';

// Parses an audit line without building its request body when the reader will not read it (most
// of a busy log's bytes are status writes carrying the object twice, as sent and as stored). The
// scanner checks the line up to the end of that body the way JSON.parse would, JSON.parse reads the
// rest with `{}` in the body's place, and the body is parsed from its text only if it is read after
// all. Anything else (short lines, lines not all ASCII, a line that may name the body twice, a
// broken line) is parsed whole, so every line gets the verdict, record or skip reason, that
// JSON.parse of the whole line leads to.

/** Stands in for a request body that was checked but not parsed. Only its presence can be read. */
export const NOT_READ: unknown = Object.freeze({ notRead: 'requestObject' });

/** Below this length scanning costs more than the parse it saves (records without big bodies). */
const SCAN_FROM = 2048;
/** The scanner keeps a buffer as long as the longest line it read: a hostile line that long is parsed whole. */
const SCAN_UP_TO = 1 << 20;
const REQUEST = 'requestObject';
/** A later member named "requestObject", plainly or with \u escapes, would be the one JSON.parse keeps. */
const NAMED_AGAIN = /"requestObject"|\\u/;

export class AuditLineParser {
  private readonly scanner = new JsonScanner();

  /** `requestBodyRead`: whether the reader reads the content of this record's request body. */
  constructor(private readonly requestBodyRead: (e: AuditEvent) => boolean) {}

  parse(line: string): TimedAuditEvent | SkipReason | undefined {
    if (line.length < SCAN_FROM || line.length > SCAN_UP_TO) return parseAuditLine(line);
    const span = this.scanner.member(line, REQUEST);
    if (span === undefined) return parseAuditLine(line);
    const rest = line.slice(span.end);
    if (NAMED_AGAIN.test(rest)) return parseAuditLine(line);
    let value: unknown;
    try {
      // `{}` can end where any value ends: the text is JSON exactly when the whole line is.
      value = JSON.parse(line.slice(0, span.start) + '{}' + rest);
    } catch {
      return parseAuditLine(line);
    }
    const checked = checkAuditEvent(value);
    if (typeof checked === 'string') return checked;
    checked.event.requestObject = this.requestBodyRead(checked.event) ? JSON.parse(line.slice(span.start, span.end)) : NOT_READ;
    return checked;
  }
}
