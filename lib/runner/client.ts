/**
 * A minimal Jupyter client over ZeroMQ (zeromq@6): shell and control Dealers, an
 * iopub Subscriber, request/reply matching by msg_id and execute requests that
 * finish when both the shell `execute_reply` and the iopub `status: idle` arrived.
 */
import * as zmq from "zeromq";
import { decodeMessage, encodeMessage, JupyterMessage, newRequest } from "./protocol";
import { AbortedError, deferred, Deferred, sleep, TimeoutError, withTimeout } from "./timeouts";

/** The connection file's content (tcp on loopback, HMAC-SHA256). */
export interface ConnectionInfo {
  transport: "tcp";
  ip: string;
  shell_port: number;
  iopub_port: number;
  stdin_port: number;
  control_port: number;
  hb_port: number;
  signature_scheme: "hmac-sha256";
  key: string;
  kernel_name?: string;
}

type Channel = "shell" | "control";

/** Called for every iopub message; `parentId` is the msg_id of the request it answers ("" if none). */
export type IopubListener = (message: JupyterMessage, parentId: string) => void;

export interface ExecuteOptions {
  /** Give up after this long (default: no limit). */
  timeoutMs?: number;
  /** Stop waiting when this fires (Ctrl-C, kernel death). */
  signal?: AbortSignal;
  /** Sees each iopub message of this request as it arrives (outputs, status). */
  onIopub?: (message: JupyterMessage) => void;
  /** Called with the request's msg_id just before it is sent. */
  onSent?: (msgId: string) => void;
}

/** How an execute request ended. */
export type ExecuteStatus = "ok" | "error" | "abort" | "timeout" | "interrupted";

export interface ExecuteOutcome {
  status: ExecuteStatus;
  msgId: string;
  executionCount: number | null;
  /** Wall time from sending the request until reply and idle both arrived (or we gave up). */
  elapsedMs: number;
  /** Kernel timestamps (header dates) of the busy/idle status messages, when seen. */
  busyAt?: string;
  idleAt?: string;
  /** Local time at which the execute_reply arrived, when it did. */
  replyAt?: string;
  /** Why we gave up (timeout or abort), when we did. */
  reason?: string;
}

export interface ReadyOptions {
  /** Total time allowed for the kernel to answer (default 60 s). */
  timeoutMs?: number;
  /** Interval between kernel_info nudges while waiting for iopub to connect (default 250 ms). */
  nudgeMs?: number;
  signal?: AbortSignal;
}

/** The ZeroMQ address of one channel. */
function endpoint(info: ConnectionInfo, port: number): string {
  return `${info.transport}://${info.ip}:${port}`;
}

/** Connected sockets to one kernel, with routing of replies and iopub messages. */
export class KernelClient {
  readonly session: string;
  private readonly shell: zmq.Dealer;
  private readonly control: zmq.Dealer;
  private readonly iopub: zmq.Subscriber;
  private readonly replyWaiters = new Map<string, Deferred<JupyterMessage>>();
  private readonly iopubListeners = new Map<string, (message: JupyterMessage) => void>();
  private readonly sendQueues = new Map<Channel, Promise<void>>();
  private strayListener: IopubListener | null = null;
  private closed = false;
  /** Messages that failed to decode (bad signature, bad JSON); kept for diagnostics. */
  readonly protocolErrors: string[] = [];

  private constructor(private readonly info: ConnectionInfo, session: string) {
    this.session = session;
    this.shell = new zmq.Dealer({ linger: 0 });
    this.control = new zmq.Dealer({ linger: 0 });
    this.iopub = new zmq.Subscriber({ linger: 0 });
  }

  /** Connect the sockets (the kernel may not be listening yet; ZeroMQ reconnects until it is). */
  static connect(info: ConnectionInfo, session: string): KernelClient {
    const client = new KernelClient(info, session);
    client.shell.connect(endpoint(info, info.shell_port));
    client.control.connect(endpoint(info, info.control_port));
    client.iopub.connect(endpoint(info, info.iopub_port));
    client.iopub.subscribe();
    void client.pump(client.shell, (message) => client.routeReply(message));
    void client.pump(client.control, (message) => client.routeReply(message));
    void client.pump(client.iopub, (message) => client.routeIopub(message));
    return client;
  }

  /** Receive on one socket until it is closed, decoding and dispatching each message. */
  private async pump(socket: zmq.Dealer | zmq.Subscriber, dispatch: (message: JupyterMessage) => void): Promise<void> {
    while (!this.closed) {
      let frames: Buffer[];
      try {
        frames = await socket.receive();
      } catch (error) {
        if (!this.closed) this.protocolErrors.push(`receive failed: ${(error as Error).message}`);
        return;
      }
      let message: JupyterMessage;
      try {
        message = decodeMessage(frames, this.info.key);
      } catch (error) {
        this.protocolErrors.push((error as Error).message);
        continue;
      }
      dispatch(message);
    }
  }

  private routeReply(message: JupyterMessage): void {
    const parentId = message.parent_header.msg_id ?? "";
    const waiter = this.replyWaiters.get(parentId);
    if (!waiter) return; // a reply nobody waits for any more (an extra kernel_info nudge)
    this.replyWaiters.delete(parentId);
    waiter.resolve(message);
  }

  private routeIopub(message: JupyterMessage): void {
    const parentId = message.parent_header.msg_id ?? "";
    const listener = this.iopubListeners.get(parentId);
    if (listener) listener(message);
    else this.strayListener?.(message, parentId);
  }

  /** Receive iopub messages that belong to no request in flight (late output of finished cells). */
  onStrayIopub(listener: IopubListener | null): void {
    this.strayListener = listener;
  }

  /**
   * Send frames on a channel, one send at a time per socket (zeromq@6 allows no concurrent sends).
   * A request may land while the kernel is still publishing the last cell's output: the patched
   * tslab queues its own sends (queueSend in lib/runner/tslab-patch/ae-tslab.js), so the request's
   * `busy` waits its turn instead of failing with EBUSY, and nothing here needs to wait for iopub
   * to go quiet (a 50 ms wait per request did, before the kernel queued: 4–5 s per notebook).
   */
  private send(channel: Channel, frames: Buffer[]): Promise<void> {
    const socket = channel === "shell" ? this.shell : this.control;
    const previous = this.sendQueues.get(channel) ?? Promise.resolve();
    const next = previous.then(() => socket.send(frames));
    this.sendQueues.set(channel, next.catch(() => undefined));
    return next;
  }

  /** Send a request and resolve with its reply; rejects on timeout, abort or closed client. */
  async request(channel: Channel, msgType: string, content: object, timeoutMs: number, signal?: AbortSignal): Promise<JupyterMessage> {
    if (this.closed) throw new Error(`cannot send ${msgType}: the client is closed`);
    const message = newRequest(msgType, content, this.session);
    const waiter = deferred<JupyterMessage>();
    this.replyWaiters.set(message.header.msg_id, waiter);
    try {
      await withTimeout(this.send(channel, encodeMessage(message, this.info.key)), timeoutMs, `sending ${msgType}`, signal);
      return await withTimeout(waiter.promise, timeoutMs, `the reply to ${msgType}`, signal);
    } finally {
      this.replyWaiters.delete(message.header.msg_id);
    }
  }

  /**
   * Wait until the kernel answers kernel_info_request on shell and its iopub messages reach us
   * (a Subscriber misses whatever is published before it is connected, so we nudge until it is).
   */
  async waitForReady(options: ReadyOptions = {}): Promise<JupyterMessage> {
    const timeoutMs = options.timeoutMs ?? 60_000;
    const nudgeMs = options.nudgeMs ?? 250;
    const deadline = Date.now() + timeoutMs;
    const first = await this.request("shell", "kernel_info_request", {}, timeoutMs, options.signal);
    let iopubSeen = false;
    const onAny = (): void => {
      iopubSeen = true;
    };
    const previousStray = this.strayListener;
    this.strayListener = onAny;
    try {
      while (!iopubSeen) {
        const left = deadline - Date.now();
        if (left <= 0) throw new TimeoutError("the kernel's iopub channel", timeoutMs);
        if (options.signal?.aborted) throw new AbortedError("waiting for the kernel", options.signal.reason);
        await this.request("shell", "kernel_info_request", {}, left, options.signal);
        if (!iopubSeen) await sleep(Math.min(nudgeMs, Math.max(0, deadline - Date.now())));
      }
    } finally {
      this.strayListener = previousStray;
    }
    return first;
  }

  /** Execute one cell; resolves (never rejects on timeout/abort) once reply and idle arrived or we gave up. */
  async execute(code: string, options: ExecuteOptions = {}): Promise<ExecuteOutcome> {
    const message = newRequest(
      "execute_request",
      { code, silent: false, store_history: true, user_expressions: {}, allow_stdin: false, stop_on_error: true },
      this.session,
    );
    const msgId = message.header.msg_id;
    const outcome: ExecuteOutcome = { status: "ok", msgId, executionCount: null, elapsedMs: 0 };
    const idle = deferred<void>();
    const reply = deferred<JupyterMessage>();
    this.replyWaiters.set(msgId, reply);
    this.iopubListeners.set(msgId, (msg) => {
      if (msg.header.msg_type === "status") {
        const state = (msg.content as { execution_state?: string }).execution_state;
        if (state === "busy") outcome.busyAt = msg.header.date;
        if (state === "idle") {
          outcome.idleAt = msg.header.date;
          idle.resolve();
        }
      }
      options.onIopub?.(msg);
    });
    const started = Date.now();
    try {
      options.onSent?.(msgId);
      const timeoutMs = options.timeoutMs ?? Number.POSITIVE_INFINITY;
      const both = (async () => {
        await this.send("shell", encodeMessage(message, this.info.key));
        const replyMessage = await reply.promise;
        outcome.replyAt = new Date().toISOString();
        const content = replyMessage.content as { status?: string; execution_count?: number };
        outcome.status = content.status === "error" ? "error" : content.status === "abort" || content.status === "aborted" ? "abort" : "ok";
        outcome.executionCount = typeof content.execution_count === "number" ? content.execution_count : null;
        await idle.promise;
      })();
      await withTimeout(both, timeoutMs, "the cell", options.signal);
    } catch (error) {
      if (error instanceof TimeoutError) outcome.status = "timeout";
      else if (error instanceof AbortedError) outcome.status = "interrupted";
      else throw error;
      outcome.reason = (error as Error).message;
    } finally {
      outcome.elapsedMs = Date.now() - started;
      this.replyWaiters.delete(msgId);
      this.iopubListeners.delete(msgId);
    }
    return outcome;
  }

  /** Close all sockets; pending waits reject. Safe to call twice. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const waiter of this.replyWaiters.values()) waiter.reject(new Error("the kernel client was closed"));
    this.replyWaiters.clear();
    this.iopubListeners.clear();
    for (const socket of [this.shell, this.control, this.iopub]) {
      try {
        socket.close();
      } catch {
        // already closed
      }
    }
  }
}
