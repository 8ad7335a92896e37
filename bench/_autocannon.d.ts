/**
 * The part of autocannon 9's programmatic API the benchmarks use (the package ships no types; the leading `_` keeps
 * `npm run bench` from running this file).
 */
declare module 'autocannon' {
  namespace autocannon {
    /** One connection's client, as given to `setupClient`. */
    interface Client {
      setHeaders(headers: Record<string, string>): void;
      setBody(body: string | Buffer): void;
    }
    interface Options {
      url: string;
      method?: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH';
      headers?: Record<string, string>;
      body?: string | Buffer;
      connections?: number;
      /** Seconds. */
      duration?: number;
      amount?: number;
      pipelining?: number;
      /** Seconds to wait for a response (default 10). */
      timeout?: number;
      /** Called with each connection's client before its first request. */
      setupClient?: (client: Client) => void;
      /** Called with each response's body; a falsy answer counts the response in `mismatches`. */
      verifyBody?: (body: string) => boolean;
      requests?: {
        method?: string;
        path?: string;
        headers?: Record<string, string>;
        body?: string | Buffer;
        setupRequest?: (request: any, context: Record<string, unknown>) => any;
        onResponse?: (status: number, body: string, context: Record<string, unknown>, headers: Record<string, string>) => void;
      }[];
    }
    interface Histogram {
      average: number;
      mean: number;
      stddev: number;
      min: number;
      max: number;
      total: number;
      p50: number;
      p90: number;
      p97_5: number;
      p99: number;
    }
    interface Result {
      /** Per-second samples; `total` is the responses received. */
      requests: Histogram & { sent: number };
      /** Milliseconds. */
      latency: Histogram;
      throughput: Histogram;
      /** Seconds. */
      duration: number;
      errors: number;
      timeouts: number;
      mismatches: number;
      non2xx: number;
      resets: number;
      start: Date;
      finish: Date;
    }
  }
  function autocannon(opts: autocannon.Options): Promise<autocannon.Result>;
  export = autocannon;
}
