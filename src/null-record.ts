/**
 * Records keyed by names that come from outside (header names, query keys): nothing inherited, so
 * `__proto__`, `constructor` or `toString` are plain keys, never Object.prototype's, as with
 * `Object.create(null)`.
 *
 * Built with `new NullRecord()` rather than `Object.create(null)`: V8 gives an `Object.create(null)`
 * object a hash table from the start ("dictionary mode"), while an instance of a constructor whose
 * prototype is an empty null-prototype object starts as a fast object with in-object properties
 * (find-my-way's and fast-querystring's NullObject). The prototype is frozen and holds nothing, so no
 * record can give another one a property. Measured on a response's header record (two headers set,
 * then enumerated, in an isolated loop under callgrind, node --single-threaded, 20,000 vs 100,000
 * records): 2,484 instructions with `Object.create(null)` against 283 for a plain object literal,
 * which a NullRecord matches in shape. In the app (app.handle in-process under callgrind, 10,000 vs
 * 50,000 requests), NullRecord header records took a JSON route from 7,942 to 7,116 instructions
 * per request and a session GET from 14,216 to 13,240; as session data records too, a login went
 * from 65,424 to 62,268.
 */
interface NullRecordConstructor {
  new <V = string>(): Record<string, V>;
  /** What every NullRecord inherits from: an empty, frozen null-prototype object. */
  readonly prototype: object;
}

export const NullRecord = function NullRecord() {} as unknown as NullRecordConstructor;
(NullRecord as { prototype: object }).prototype = Object.freeze(Object.create(null) as object);
