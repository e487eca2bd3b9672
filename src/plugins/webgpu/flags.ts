/** The flag constants of WebGPU's namespaces (`GPUBufferUsage.MAP_READ` ...), fixed by the spec. */

export class GpuBufferUsage {
  static 'MAP-READ' = () => 0x0001;
  static 'MAP-WRITE' = () => 0x0002;
  static 'COPY-SRC' = () => 0x0004;
  static 'COPY-DST' = () => 0x0008;
  static INDEX = () => 0x0010;
  static VERTEX = () => 0x0020;
  static UNIFORM = () => 0x0040;
  static STORAGE = () => 0x0080;
  static INDIRECT = () => 0x0100;
  static 'QUERY-RESOLVE' = () => 0x0200;
}

export class GpuMapMode {
  static READ = () => 0x0001;
  static WRITE = () => 0x0002;
}

export class GpuTextureUsage {
  static 'COPY-SRC' = () => 0x01;
  static 'COPY-DST' = () => 0x02;
  static 'TEXTURE-BINDING' = () => 0x04;
  static 'STORAGE-BINDING' = () => 0x08;
  static 'RENDER-ATTACHMENT' = () => 0x10;
}

export class GpuShaderStage {
  static VERTEX = () => 0x1;
  static FRAGMENT = () => 0x2;
  static COMPUTE = () => 0x4;
}

export class GpuColorWrite {
  static RED = () => 0x1;
  static GREEN = () => 0x2;
  static BLUE = () => 0x4;
  static ALPHA = () => 0x8;
  static ALL = () => 0xf;
}
