/** NullRecord (src/null-record.ts): records keyed by outside names inherit nothing and share nothing. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { NullRecord } from "../src/null-record.js";
import { Response } from "../src/index.js";

describe("NullRecord", () => {
  test("inherits nothing: Object.prototype's names read as absent", () => {
    const record = new NullRecord();
    for (const name of ["constructor", "toString", "hasOwnProperty", "__proto__", "valueOf", "__defineGetter__"]) {
      assert.equal(record[name], undefined, name);
      assert.equal(name in record, false, name);
    }
    assert.deepEqual(Object.keys(record), []);
  });

  test("__proto__ and constructor are plain keys, and change no prototype", () => {
    const record = new NullRecord();
    const proto = "__proto__"; // a key as it would come from input (a header name, a session key)
    record[proto] = "a";
    record["constructor"] = "b";
    assert.deepEqual(Object.keys(record), ["__proto__", "constructor"]);
    assert.equal(Object.getPrototypeOf(record), NullRecord.prototype);
    assert.equal(JSON.stringify(record), '{"__proto__":"a","constructor":"b"}');
    const keys: string[] = [];
    for (const key in record) keys.push(key);
    assert.deepEqual(keys, ["__proto__", "constructor"]);
  });

  test("records share nothing: the prototype is frozen and empty", () => {
    assert.ok(Object.isFrozen(NullRecord.prototype));
    assert.equal(Object.getPrototypeOf(NullRecord.prototype), null);
    assert.deepEqual(Reflect.ownKeys(NullRecord.prototype), []);
    assert.throws(() => {
      // ES modules are strict: writing to a frozen object throws.
      (Object.getPrototypeOf(new NullRecord()) as Record<string, string>)["polluted"] = "x";
    }, TypeError);
    assert.equal(new NullRecord()["polluted"], undefined);
  });

  test("a Response's headers named after Object.prototype members are headers like any other", () => {
    const response = Response.json(
      {},
      {
        headers: [
          ["constructor", "c"],
          ["__proto__", "p"],
        ],
      },
    );
    assert.equal(response.getHeader("constructor"), "c");
    assert.equal(response.getHeader("__proto__"), "p");
    assert.deepEqual(Object.keys(response.headers).sort(), ["__proto__", "constructor", "content-type"]);
    assert.equal(response.hasHeader("toString"), false);
    assert.equal(response.getHeader("valueOf"), undefined);
  });
});
