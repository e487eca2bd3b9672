/**
 * `wasi:graphics-context`: a context is what a surface or frame buffer presents. This host has
 * neither (no window, no display), so a context can be made but gives no buffer to draw into.
 */
import { refused } from './errors.ts';

export class Context {
  getCurrentBuffer(): never {
    refused('graphics-context.context.get-current-buffer');
  }
  present(): never {
    refused('graphics-context.context.present');
  }
}

/** Never handed out by this host (only `get-current-buffer` would). */
export class AbstractBuffer {}
