import type { Alert, DetectorEvent } from '../alerts/model.js';
import type { Finding } from '../parsers/finding.js';
import type { Detector } from './detector.js';
import { EvidenceBook } from './evidence-book.js';

export interface TlsOptions {
  /** Non-fatal handshake failures from one peer within the window that fire (default 3 in 10 min). */
  count?: number;
  windowMs?: number;
  /** Clears after this long without another failure (default 15 min). */
  quietMs?: number;
}

/**
 * Handshakes that end this way all the time without anything being wrong: clients and load balancers that
 * close the connection, and internet scanners that connect to an IP address without a server name.
 */
const BENIGN = [/^EOF$/, /connection reset by peer$/, /i\/o timeout$/, /^acme\/autocert: missing server name$/, /not configured in HostWhitelist/];

/** One sentence of what the cause usually means, for the operator. */
function advice(cause: string, side: 'server' | 'client', acme: boolean): string {
  if (acme) return 'Headscale cannot get or renew its Let\'s Encrypt certificate: check that the hostname resolves to this host, that the ACME challenge port (443 for TLS-ALPN-01, 80 for HTTP-01) reaches Headscale, and Let\'s Encrypt rate limits.';
  if (cause.includes('first record does not look like a TLS handshake') || cause.includes('client sent an HTTP request to an HTTPS server')) {
    return 'Something speaks plain HTTP to Headscale\'s TLS port — usually a reverse proxy pointed at https:// without TLS to the backend, or a client using http://.';
  }
  if (/certificate has expired|not yet valid/.test(cause)) return 'The certificate has expired (or the clock is wrong): renew it, and check the time on both machines.';
  if (/certificate is valid for|certificate is not valid for any names/.test(cause)) return 'The certificate does not name the host the client uses: fix server_url / --login-server or reissue the certificate for that name.';
  if (/unknown authority|bad certificate|unknown certificate/.test(cause)) {
    return side === 'server'
      ? 'The client does not trust Headscale\'s certificate (self-signed or missing intermediate): serve the full chain from a public CA, or install the CA on the clients.'
      : 'The client does not trust the control server\'s certificate (self-signed or missing intermediate): serve the full chain from a public CA, or install the CA in the container.';
  }
  return side === 'server' ? 'Check the certificate and TLS settings Headscale serves (tls_cert_path / tls_letsencrypt_*).' : 'Check the certificate the control server (or the proxy in front of it) presents.';
}

/**
 * TLS failures on either side of the control connection (`tls-error`). Server side: Headscale's listener
 * (`http: TLS handshake error from <peer>`) and its ACME client; client side: a Tailscale client whose TLS to
 * control fails. One alert per side and peer. Failures that stop a client (fetching the control key, a
 * certificate Headscale cannot obtain) fire at once; the others need repeats from the same peer.
 */
export class TlsDetector implements Detector {
  readonly name = 'tls';
  private readonly book = new EvidenceBook(new Set(['tls-error']));
  private readonly threshold;

  constructor(opts: TlsOptions = {}) {
    this.threshold = { count: opts.count ?? 3, windowMs: opts.windowMs ?? 600_000, quietMs: opts.quietMs ?? 900_000 };
  }

  observe(f: Finding): DetectorEvent[] {
    if (f.kind === 'tls-error') {
      if (!f.fatal && BENIGN.some((b) => b.test(f.cause))) return [];
      return this.report(f.side, f.origin, f.peer, f.cause, f.fatal, f.acme === true, f.at, f.line);
    }
    if (f.kind === 'control-error' && f.class === 'tls') {
      // A TLS error that surfaced as a control error failed the operation (control key, register, map).
      return this.report('client', f.origin, f.peer ?? 'the control server', f.error, true, false, f.at, f.line);
    }
    return [];
  }

  private report(side: 'server' | 'client', origin: string, peer: string, cause: string, fatal: boolean, acme: boolean, at: number, line?: string): DetectorEvent[] {
    const subject = side === 'server' ? `${origin} from ${peer}` : `${origin} to ${peer}`;
    const minutes = Math.round(this.threshold.windowMs / 60_000);
    return this.book.hit(
      {
        kind: 'tls-error',
        subject,
        severity: fatal ? 'critical' : 'warning',
        ...this.threshold,
        immediate: fatal,
        labels: { side, peer, origin, ...(acme ? { acme: 'true' } : {}) },
        summary: (n, total) => {
          const what =
            side === 'server'
              ? acme
                ? `Headscale (${origin}) fails to obtain its TLS certificate from ${peer}: ${cause}`
                : `Headscale (${origin}) fails TLS handshakes from ${peer}: ${cause}`
              : `Tailscale in ${origin} fails TLS to ${peer}: ${cause}`;
          return `${what} (${n} in ${minutes} min, ${total} in total). ${advice(cause, side, acme)}`;
        },
      },
      at,
      line,
    );
  }

  tick(now: number): DetectorEvent[] {
    return this.book.tick(now, (subject, total, quietMs) => `No TLS failure for ${subject} in ${Math.round(quietMs / 60_000)} min (${total} seen in total)`);
  }

  snapshot(): unknown {
    return this.book.snapshot();
  }

  restore(state: unknown, firing: Alert[]): void {
    this.book.restore(state, firing);
  }
}
