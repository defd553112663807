// Type declarations for the <diffuir-restore> widget (diffuir-restore.js)
// and the worker protocol's client (../client.js).

/** Options of one restore; every field is optional. */
export interface RestoreOptions {
  /** Sampler steps, 1 to 20; default: the model's (3). */
  steps?: number;
  /** Seed of the starting noise (0 to 2^53). Default 0. */
  seed?: number;
  /** Multiplier of the starting noise: 0 is deterministic, 1 (default) the authors' sampler. */
  noiseScale?: number;
  /** Low-light histogram equalization. Default "auto" (on for underexposed photos). */
  equalize?: 'auto' | 'on' | 'off';
  /** Tile side in pixels (at least 8); 0 = default (512); -1 = the whole image in one pass. */
  tile?: number;
  /** Overlap between tiles in pixels; 0 = default (32). */
  overlap?: number;
  /** Activation memory budget of one tile in MiB; tiles shrink to fit. 0 = none. */
  memoryMiB?: number;
  /** Output format; default "png". */
  format?: 'png' | 'jpeg';
  /** JPEG quality 1 to 100; default 92. */
  quality?: number;
  /** PNG bits per channel, 8 or 16; default: the input's. */
  depth?: 8 | 16;
}

/** The widget's options: a restore's, plus the strength of the result. */
export interface WidgetOptions extends RestoreOptions {
  /**
   * How much of the restored photo to keep, 0 to 100 (default 100): the
   * result is (1-s)·original + s·restored, computed exactly in the worker;
   * 100 is the model's output, 0 the original. Attribute: strength.
   */
  strength?: number;
}

/** Which backend runs the model. */
export interface BackendInfo {
  kind: 'gpu' | 'cpu';
  /** Adapter or CPU description. */
  name: string;
  /** Why the CPU runs it, when it does. */
  reason: string;
}

/** A progress event: a model download, or one finished sampler step of one tile. */
export type Progress =
  | { phase: 'download'; loaded: number; total: number; cached: boolean }
  | { phase: 'load' }
  | { phase: 'restore'; tile: number; tiles: number; step: number; steps: number; fraction: number };

/** Error codes of the protocol (see PROTOCOL.md). */
export type ErrorCode =
  | 'E_WASM_LOAD' | 'E_WORKER' | 'E_WORKER_EXITED' | 'E_BAD_REQUEST' | 'E_NO_MODEL' | 'E_MODEL_DOWNLOAD'
  | 'E_MODEL_CORRUPT' | 'E_MODEL_INVALID' | 'E_IMAGE_DECODE' | 'E_IMAGE_TOO_LARGE' | 'E_IMAGE_EMPTY'
  | 'E_CANCELLED' | 'E_BACKEND' | 'E_INTERNAL';

export interface ErrorDetail {
  code: ErrorCode;
  message: string;
}

/** What a restore of the widget resolves with (and the detail of its "done" event). */
export interface WidgetResult {
  blob: Blob;
  /** An object URL of blob, valid while the widget keeps it. */
  url: string;
  width: number;
  height: number;
  mime: string;
  backend: BackendInfo;
  /** Milliseconds the restore took in the worker. */
  ms: number;
  /** The strength the result was blended at (0-100). */
  strength: number;
}

/** A bundled model, as listed by the build. */
export interface BundledModel {
  label: string;
  url: string;
  size: number;
  sha256: string;
}

export interface Capabilities {
  version: string;
  goVersion: string;
  gpuBuilt: boolean;
  backend: BackendInfo;
  maxPixels: number;
  webgpu: {
    available: boolean;
    reason?: string;
    /** software: a CPU implementation (SwiftShader...), where backend "auto" takes the CPU. */
    adapter?: { vendor: string; architecture: string; device: string; description: string; software: boolean };
    f16?: boolean;
    limits?: Record<string, number>;
  };
  models: BundledModel[];
  build: string;
}

export interface DiffuirRestoreEventMap {
  progress: CustomEvent<Progress>;
  done: CustomEvent<WidgetResult>;
  error: CustomEvent<ErrorDetail>;
}

/**
 * <diffuir-restore src="photo.jpg" model="default" steps="3">
 * Attributes: src, model ("default" or a .duir URL), steps, equalize, tile,
 * seed, noise-scale, strength (0-100), autorestore, backend.
 */
export declare class DiffuirRestoreElement extends HTMLElement {
  /** The last result, or null. */
  result: WidgetResult | null;
  /** The options read from the attributes. */
  readonly options: WidgetOptions;
  /** Restores blob (or the src photo) with options over the attributes. Rejects with an Error whose code is an ErrorCode. */
  restore(blob?: Blob, options?: WidgetOptions): Promise<WidgetResult>;
  /** Restores the photos one after the other (the first error stops it); resolves with their results in order. */
  restore(blobs: Blob[], options?: WidgetOptions): Promise<WidgetResult[]>;
  /** Cancels the running restore (it rejects with code E_CANCELLED). */
  cancel(): void;
  /** The shared worker's capabilities (starts it if needed). */
  capabilities(): Promise<Capabilities>;
  addEventListener<K extends keyof DiffuirRestoreEventMap>(
    type: K,
    listener: (this: DiffuirRestoreElement, ev: DiffuirRestoreEventMap[K]) => unknown,
    options?: boolean | AddEventListenerOptions,
  ): void;
  addEventListener(type: string, listener: EventListenerOrEventListenerObject, options?: boolean | AddEventListenerOptions): void;
  removeEventListener<K extends keyof DiffuirRestoreEventMap>(
    type: K,
    listener: (this: DiffuirRestoreElement, ev: DiffuirRestoreEventMap[K]) => unknown,
    options?: boolean | EventListenerOptions,
  ): void;
  removeEventListener(type: string, listener: EventListenerOrEventListenerObject, options?: boolean | EventListenerOptions): void;
}

declare global {
  interface HTMLElementTagNameMap {
    'diffuir-restore': DiffuirRestoreElement;
  }
}
