export { configPlugin, type ConfigPluginOptions } from './plugin.ts';
export { INCLUDE_ENVIRONMENT_KEY } from './values.ts';
