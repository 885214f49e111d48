/**
 * One chromium for every kernel of a run. Each kernel would otherwise start its own headless
 * chromium and load plotly.js into it (about 6 s of CPU, lib/plots/png-kernel.ts); the runner
 * instead serves PNGs from its one warm page (a PngFiller) on a loopback HTTP endpoint and
 * hands the kernels its address in AE_PNG_SERVICE. The kernel still renders each figure's PNG
 * synchronously inside showFigure; only the browser is shared.
 *
 *   const service = await startPngService(filler);   // env: { [PNG_SERVICE_ENV]: service.url }
 *   …
 *   await service.close();
 *
 * Protocol: POST <url> with a Plotly figure as JSON → 200 {png} (base64), or 500 {error, fatal}
 * (fatal: chromium or plotly.js did not start, so no later figure can get a PNG either). An
 * empty body only starts chromium (the kernel's warm-up at setup). The URL holds a random token:
 * other paths get 404.
 */
import { randomBytes } from "crypto";
import * as http from "http";
import { AddressInfo } from "net";
import { JsonObject } from "./notebook";
import { PngFiller, PngUnavailableError } from "./plot-png";

/** The environment variable that points a kernel's renderFigurePng at a run's PNG service, or turns its PNGs off (PNG_OFF). */
export const PNG_SERVICE_ENV = "AE_PNG_SERVICE";

/** AE_PNG_SERVICE=off: the kernel sends figures without a PNG and starts no chromium (the runner's --no-png). */
export const PNG_OFF = "off";

/** What the service answers. */
export interface PngServiceReply {
  png?: string;
  error?: string;
  /** True when chromium or plotly.js could not start. */
  fatal?: boolean;
}

export interface PngService {
  /** http://127.0.0.1:<port>/<token> */
  url: string;
  /** Figures rendered so far. */
  readonly rendered: number;
  /** Stop listening (the filler, and its chromium, belong to the caller). */
  close(): Promise<void>;
}

/** Largest request accepted (a figure's JSON). */
const MAX_BODY_BYTES = 64 * 1024 * 1024;

function readBody(request: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new Error(`figure JSON over ${MAX_BODY_BYTES} bytes`));
        request.destroy();
        return;
      }
      chunks.push(chunk);
    });
    request.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    request.on("error", reject);
  });
}

/** Serve `filler`'s PNGs on a random loopback port; resolves once it listens. */
export async function startPngService(filler: PngFiller): Promise<PngService> {
  const token = randomBytes(16).toString("hex");
  let rendered = 0;
  const send = (response: http.ServerResponse, status: number, reply: PngServiceReply): void => {
    response.writeHead(status, { "content-type": "application/json" });
    response.end(JSON.stringify(reply));
  };
  const server = http.createServer((request, response) => {
    if (request.method !== "POST" || request.url !== `/${token}`) {
      send(response, 404, { error: "not found" });
      return;
    }
    readBody(request).then(
      async (body) => {
        if (body.trim() === "") {
          filler.warm();
          send(response, 200, {});
          return;
        }
        try {
          const png = await filler.renderPng(JSON.parse(body) as JsonObject);
          rendered++;
          send(response, 200, { png });
        } catch (error) {
          send(response, 500, { error: (error as Error).message, fatal: error instanceof PngUnavailableError });
        }
      },
      (error: unknown) => send(response, 400, { error: (error as Error).message }),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  server.unref(); // never keeps a process alive by itself
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/${token}`,
    get rendered() {
      return rendered;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
