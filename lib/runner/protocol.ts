/**
 * The Jupyter messaging wire protocol (v5.3, as tslab speaks it): message types,
 * HMAC-SHA256 signing and the frame layout
 *   [identities…, "<IDS|MSG>", signature, header, parent_header, metadata, content, buffers…].
 * Pure functions only; sockets live in client.ts.
 */
import { createHmac, randomBytes, randomUUID, timingSafeEqual } from "crypto";

/** The delimiter between routing identities and the signed message. */
export const DELIMITER = "<IDS|MSG>";

/** The protocol version we announce; tslab replies with 5.3. */
export const PROTOCOL_VERSION = "5.3";

export interface MessageHeader {
  msg_id: string;
  msg_type: string;
  session: string;
  username: string;
  date: string;
  version: string;
}

/** A decoded Jupyter message. `parent_header` is `{}` for messages with no parent. */
export interface JupyterMessage<Content = Record<string, unknown>> {
  header: MessageHeader;
  parent_header: Partial<MessageHeader>;
  metadata: Record<string, unknown>;
  content: Content;
  buffers: Buffer[];
}

/** A fresh random signing key (hex of 32 random bytes). */
export function newSigningKey(): string {
  return randomBytes(32).toString("hex");
}

/** HMAC-SHA256 over the four signed frames, hex encoded; empty when the key is empty (signing off). */
export function signFrames(key: string, frames: ReadonlyArray<Buffer | string>): string {
  if (key === "") return "";
  const hmac = createHmac("sha256", key);
  for (const frame of frames) hmac.update(frame);
  return hmac.digest("hex");
}

/** A new header for a request sent by this client. */
export function newHeader(msgType: string, session: string, username = "runner"): MessageHeader {
  return {
    msg_id: randomUUID(),
    msg_type: msgType,
    session,
    username,
    date: new Date().toISOString(),
    version: PROTOCOL_VERSION,
  };
}

/** Build a request message (no parent) ready to encode. */
export function newRequest<C>(msgType: string, content: C, session: string): JupyterMessage<C> {
  return { header: newHeader(msgType, session), parent_header: {}, metadata: {}, content, buffers: [] };
}

/** Serialise and sign a message into ZeroMQ frames (a Dealer sends no identity frames). */
export function encodeMessage(message: JupyterMessage<unknown>, key: string): Buffer[] {
  const signed = [message.header, message.parent_header, message.metadata, message.content].map((part) =>
    Buffer.from(JSON.stringify(part), "utf8"),
  );
  const signature = signFrames(key, signed);
  return [Buffer.from(DELIMITER), Buffer.from(signature), ...signed, ...message.buffers];
}

/** Thrown for frames that are not a valid, correctly signed Jupyter message. */
export class ProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ProtocolError";
  }
}

/** Compare two hex signatures in constant time. */
function signaturesEqual(expected: string, actual: string): boolean {
  const a = Buffer.from(expected);
  const b = Buffer.from(actual);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Parse one JSON frame, naming the frame on failure. */
function parseFrame(frame: Buffer, name: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(frame.toString("utf8"));
    if (value === null || typeof value !== "object" || Array.isArray(value)) throw new Error("not a JSON object");
    return value as Record<string, unknown>;
  } catch (error) {
    throw new ProtocolError(`message ${name} frame is not a JSON object: ${(error as Error).message}`);
  }
}

/** Verify the signature and decode ZeroMQ frames into a message; throws ProtocolError otherwise. */
export function decodeMessage(frames: ReadonlyArray<Buffer>, key: string): JupyterMessage {
  const delimiterAt = frames.findIndex((frame) => frame.toString("utf8") === DELIMITER);
  if (delimiterAt < 0) throw new ProtocolError("message has no <IDS|MSG> delimiter");
  const rest = frames.slice(delimiterAt + 1);
  if (rest.length < 5) throw new ProtocolError(`message has ${rest.length} frames after the delimiter, expected at least 5`);
  const [signature, header, parent, metadata, content, ...buffers] = rest;
  const expected = signFrames(key, [header, parent, metadata, content]);
  if (key !== "" && !signaturesEqual(expected, signature.toString("utf8"))) {
    throw new ProtocolError("message signature does not match the connection key");
  }
  return {
    header: parseFrame(header, "header") as unknown as MessageHeader,
    parent_header: parseFrame(parent, "parent_header") as Partial<MessageHeader>,
    metadata: parseFrame(metadata, "metadata"),
    content: parseFrame(content, "content"),
    buffers: [...buffers],
  };
}
