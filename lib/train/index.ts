export * from "./loop";
