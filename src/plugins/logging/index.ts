export { loggingPlugin, type LoggingPluginOptions } from './plugin.ts';
