// The HTTP server on tdefer's own event loop (node:http): limits, the token rule, JSON errors. What each
// path answers is api.ts's; nothing here waits on anything but the client.
import { createHash, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { type HttpAddress, isLoopback } from "./http-address.js";

/** Requests carry no body worth more than this (the POST actions take none). */
export const MAX_BODY_BYTES = 1024;
const MAX_URL_CHARS = 2048;

/** An error an HTTP client caused: answered as `{"error": message}` with `status`. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }
}

/** The host of `host:port` as a Host header or an Origin has it. */
function hostOfHeader(value: string): string {
  const v6 = /^\[([^\]]+)\]/.exec(value);
  if (v6) return v6[1]!;
  return value.replace(/:\d+$/, "");
}

/** One request, as the handler receives it: method, path, query; the body has been read (and bounded). */
export interface HttpRequest {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly raw: IncomingMessage;
}

export type Handler = (request: HttpRequest, res: ServerResponse) => void | Promise<void>;

export interface OpsServerOptions {
  readonly address: HttpAddress;
  /** Required by every path but /healthz, as `Authorization: Bearer TOKEN` (or Basic with it as password). */
  readonly token: string | undefined;
  readonly handler: Handler;
  /** Told of a handler that threw (a bug); the client gets 500. */
  readonly onError: (error: unknown) => void;
}

/**
 * An HTTP server with the limits a daemon needs: bounded headers, URL and body, timeouts for slow senders,
 * a cap on connections, the token rule, and JSON errors. On loopback without a token it also refuses Host
 * names that are not loopback (DNS rebinding) and cross-origin POSTs (another site's page driving the API).
 */
export class OpsServer {
  private readonly server: Server;
  private readonly tokenDigest: Buffer | undefined;

  constructor(private readonly options: OpsServerOptions) {
    if (!isLoopback(options.address.host) && options.token === undefined) {
      throw new Error(
        `--http ${options.address.host}:${options.address.port} is reachable from other machines; give it a token with --http-token-file FILE (or listen on 127.0.0.1)`,
      );
    }
    this.tokenDigest = options.token === undefined ? undefined : digest(options.token);
    this.server = createServer({
      requestTimeout: 10_000,
      headersTimeout: 5_000,
      keepAliveTimeout: 5_000,
      maxHeaderSize: 16 * 1024,
    });
    this.server.maxConnections = 1024;
    this.server.maxRequestsPerSocket = 10_000;
    this.server.on("request", (req: IncomingMessage, res: ServerResponse) => this.onRequest(req, res));
    this.server.on("clientError", (_error, socket) => {
      if (socket.writable) socket.end("HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n");
      else socket.destroy();
    });
  }

  /** Starts listening; resolves with the port (the one asked for, or the one given for port 0). */
  listen(): Promise<HttpAddress> {
    const { host, port } = this.options.address;
    return new Promise((resolve, reject) => {
      const onError = (error: NodeJS.ErrnoException) =>
        reject(
          new Error(
            `cannot listen on ${host}:${port}: ${error.code === "EADDRINUSE" ? "the address is in use (another tdefer?); pick another with --http HOST:PORT" : error.message}`,
          ),
        );
      this.server.once("error", onError);
      this.server.listen(port, host, () => {
        this.server.off("error", onError);
        const bound = this.server.address();
        resolve({ host, port: typeof bound === "object" && bound ? bound.port : port });
      });
    });
  }

  /** Stops listening and ends every connection (event streams included). */
  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    this.handle(req, res).catch((error: unknown) => {
      if (error instanceof HttpError) {
        sendError(res, error);
        return;
      }
      this.options.onError(error);
      sendError(res, new HttpError(500, "internal error; the daemon's log has the details"));
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const rawUrl = req.url ?? "/";
    if (rawUrl.length > MAX_URL_CHARS) throw new HttpError(414, "the URL is too long");
    let url: URL;
    try {
      url = new URL(rawUrl, "http://tdefer.invalid");
    } catch {
      throw new HttpError(400, "the URL cannot be read");
    }
    const method = req.method ?? "GET";
    if (url.pathname !== "/healthz") this.authorize(req, method);
    if (method === "POST" || method === "PUT" || method === "PATCH") await drainBody(req);
    await this.options.handler({ method, path: url.pathname, query: url.searchParams, raw: req }, res);
  }

  private authorize(req: IncomingMessage, method: string): void {
    if (this.tokenDigest) {
      const given = tokenOf(req.headers.authorization);
      if (given === undefined || !timingSafeEqual(digest(given), this.tokenDigest)) {
        throw new HttpError(401, "a valid token is required: send Authorization: Bearer TOKEN", {
          "www-authenticate": 'Bearer realm="tdefer", Basic realm="tdefer"',
        });
      }
      return;
    }
    // Without a token the server is on loopback: only this machine's own names may reach it.
    const host = req.headers.host;
    if (host !== undefined && !isLoopback(hostOfHeader(host))) {
      throw new HttpError(403, `Host "${host}" is not a loopback name; use http://127.0.0.1:PORT/`);
    }
    if (method !== "GET" && method !== "HEAD") {
      const origin = req.headers.origin;
      if (origin !== undefined && origin !== "null") {
        let originHost: string;
        try {
          originHost = new URL(origin).host;
        } catch {
          throw new HttpError(403, "cross-origin requests are refused");
        }
        if (originHost !== host) throw new HttpError(403, "cross-origin requests are refused");
      } else if (origin === "null") {
        throw new HttpError(403, "cross-origin requests are refused");
      }
    }
  }
}

/** The token of `Bearer TOKEN`, or the password of `Basic base64(user:TOKEN)` (what a browser prompts for). */
function tokenOf(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (bearer) return bearer[1];
  const basic = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (basic) {
    const decoded = Buffer.from(basic[1]!, "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    return colon >= 0 ? decoded.slice(colon + 1) : undefined;
  }
  return undefined;
}

/** Equal-length digests, so the comparison takes the same time whatever the guess. */
function digest(token: string): Buffer {
  return createHash("sha256").update(token).digest();
}

/** Reads and drops a request body, refusing one larger than {@link MAX_BODY_BYTES}. */
function drainBody(req: IncomingMessage): Promise<void> {
  const declared = Number(req.headers["content-length"] ?? 0);
  if (declared > MAX_BODY_BYTES) {
    req.resume();
    return Promise.reject(new HttpError(413, `the body is larger than ${MAX_BODY_BYTES} bytes`));
  }
  return new Promise((resolve, reject) => {
    let bytes = 0;
    req.on("data", (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes > MAX_BODY_BYTES) {
        reject(new HttpError(413, `the body is larger than ${MAX_BODY_BYTES} bytes`));
        req.destroy();
      }
    });
    req.on("end", () => resolve());
    req.on("error", reject);
  });
}

const COMMON_HEADERS = {
  "cache-control": "no-store",
  "x-content-type-options": "nosniff",
} as const;

/** A JSON answer. */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, {
    ...COMMON_HEADERS,
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
  });
  res.end(text);
}

/** A text answer of any type (HTML, the metrics). */
export function sendText(
  res: ServerResponse,
  status: number,
  contentType: string,
  text: string,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, {
    ...COMMON_HEADERS,
    ...headers,
    "content-type": contentType,
    "content-length": Buffer.byteLength(text),
  });
  res.end(text);
}

export function sendError(res: ServerResponse, error: HttpError): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const text = `${JSON.stringify({ error: error.message })}\n`;
  res.writeHead(error.status, {
    ...COMMON_HEADERS,
    ...error.headers,
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
    // An error mid-request may leave an unread body behind.
    ...(error.status === 413 ? { connection: "close" } : {}),
  });
  res.end(text);
}
