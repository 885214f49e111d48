import { beforeEach, describe, expect, it } from "vitest";
import { clearCollectedOutputs, collectedOutputs, displayBundle, displayMarkdown, displayPng, inKernel, newDisplayId } from "../lib/display";

describe("display outside a kernel", () => {
  beforeEach(() => clearCollectedOutputs());

  it("is not in a kernel and collects bundles instead", () => {
    expect(inKernel()).toBe(false);
    displayBundle({ "text/plain": "hello", "application/json": { a: 1 } });
    const out = collectedOutputs();
    expect(out).toHaveLength(1);
    expect(out[0].data).toEqual({ "text/plain": "hello", "application/json": { a: 1 } });
    expect(out[0].update).toBe(false);
  });

  it("keeps display ids and updates, and clears on request", () => {
    const id = newDisplayId();
    expect(id).toMatch(/^[0-9a-f]{16}$/);
    displayMarkdown("| a |\n|---|\n| 1 |", { displayId: id });
    displayMarkdown("| a |\n|---|\n| 2 |", { displayId: id, update: true });
    const out = collectedOutputs(true);
    expect(out.map((o) => [o.displayId, o.update])).toEqual([[id, false], [id, true]]);
    expect(Object.keys(out[0].data).sort()).toEqual(["text/markdown", "text/plain"]);
    expect(collectedOutputs()).toHaveLength(0);
  });

  it("encodes PNG bytes as base64 next to alt text", () => {
    displayPng(new Uint8Array([137, 80, 78, 71]), "four bytes");
    const [o] = collectedOutputs(true);
    expect(o.data["image/png"]).toBe("iVBORw==");
    expect(o.data["text/plain"]).toBe("four bytes");
  });

  it("rejects empty bundles and updates without an id", () => {
    expect(() => displayBundle({})).toThrow(/empty/);
    expect(() => displayBundle({ "text/plain": "x" }, { update: true })).toThrow(/displayId/);
  });
});
