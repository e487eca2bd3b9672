/**
 * `wasmhost/webgpu`: the `wasi:webgpu` plugin. Importing it does not load Dawn: the optional
 * `webgpu` package loads at the first workload that needs it (or at `probe()`).
 */
export * from './plugins/webgpu/index.ts';
