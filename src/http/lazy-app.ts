import type { IncomingMessage, ServerResponse } from 'node:http';

export type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * A request listener that builds its app on the first request it gets, so that a module the app
 * needs (express and its body parsers: about 8 MB of RSS) is loaded only once a request needs it.
 * The agent and the webhook answer their probes and Prometheus' scrapes before reaching it.
 */
export function lazyApp(build: () => Promise<RequestListener>): RequestListener {
  let app: Promise<RequestListener> | undefined;
  return (req, res) => {
    app ??= build();
    app.then(
      (handle) => {
        handle(req, res);
      },
      (err: unknown) => {
        app = undefined;
        res.statusCode = 500;
        res.setHeader('Content-Type', 'text/plain; charset=utf-8');
        res.end(`internal error: ${err instanceof Error ? err.message : String(err)}\n`);
      },
    );
  };
}
