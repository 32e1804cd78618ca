/**
 * Streamed response bodies (`Response.stream`, a WHATWG Response's body, an async iterable returned by
 * a handler): read one chunk at a time, only as fast as the client takes them, and cancelled when the
 * client goes away.
 */
import { createError } from "../errors.js";

/** A chunk of a streamed body: bytes, or a string sent as UTF-8. */
export type StreamChunk = Uint8Array | string;

/** A streamed body: a WHATWG `ReadableStream` or any async iterable (an async generator...) of chunks. */
export type StreamBody = ReadableStream<StreamChunk> | AsyncIterable<StreamChunk>;

/** A pull reader over either kind of {@link StreamBody}. */
export interface ChunkReader {
  /** The next chunk, as produced. A value is checked by {@link toChunk} before it is sent. */
  next(): Promise<{ done?: boolean | undefined; value?: unknown }>;
  /**
   * Stops the body: `cancel()` on a ReadableStream, `return()` on an iterator (an async generator's
   * `finally` runs once its pending step settles). Never throws; a rejection is ignored.
   */
  cancel(): void;
}

const ignore = (): void => undefined;

/** Whether a Response body is a stream rather than finished bytes (`string`, `Uint8Array`, `null`). */
export function isStreamBody(body: unknown): body is StreamBody {
  return typeof body === "object" && body !== null && !(body instanceof Uint8Array);
}

/** Opens `body` for reading (locks a ReadableStream; starts an iterable's iterator). */
export function readChunks(body: StreamBody): ChunkReader {
  if (body instanceof ReadableStream) {
    const reader = (body as ReadableStream<unknown>).getReader();
    return {
      next: () => reader.read(),
      cancel: () => void reader.cancel().catch(ignore),
    };
  }
  const iterator = body[Symbol.asyncIterator]();
  return {
    next: () => iterator.next(),
    cancel: () => {
      try {
        const result = iterator.return?.();
        if (result !== undefined) Promise.resolve(result).catch(ignore);
      } catch {
        // A throwing return(): the body is abandoned all the same.
      }
    },
  };
}

/** Stops a body that will never be read (HEAD, a bodiless status, a response that failed to start). */
export function cancelBody(body: StreamBody): void {
  if (body instanceof ReadableStream) {
    if (!body.locked) body.cancel().catch(ignore);
    return;
  }
  readChunks(body).cancel();
}

/** A chunk as sent, or `CELLO_STREAM_CHUNK_INVALID` (thrown: the stream ends in error) for any other value. */
export function toChunk(value: unknown): StreamChunk {
  if (typeof value === "string" || value instanceof Uint8Array) return value;
  throw createError("CELLO_STREAM_CHUNK_INVALID", value === null ? "null" : typeof value);
}

const encoder = new TextEncoder();

/**
 * `body` as a byte ReadableStream for a WHATWG Response (strings encoded as UTF-8). Pulled on demand
 * (high-water mark 0: nothing is read ahead of the consumer), and the consumer's cancel reaches the
 * iterator's `return()` or the stream's `cancel()`. An error from the body is reported to `onError`
 * and errors the stream.
 */
export function toReadableStream(body: StreamBody, onError: (error: unknown) => void): ReadableStream<Uint8Array> {
  const reader = readChunks(body);
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        let chunk: StreamChunk;
        try {
          for (;;) {
            const step = await reader.next();
            if (step.done === true) {
              controller.close();
              return;
            }
            chunk = toChunk(step.value);
            if (chunk.length > 0) break;
          }
        } catch (error) {
          onError(error);
          reader.cancel();
          controller.error(error);
          return;
        }
        controller.enqueue(typeof chunk === "string" ? encoder.encode(chunk) : chunk);
      },
      cancel() {
        reader.cancel();
      },
    },
    { highWaterMark: 0 },
  );
}
