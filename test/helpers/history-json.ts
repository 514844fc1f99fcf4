// History <-> JSON through the SDK's own proto utilities. Required, not imported: an ESM import
// through vite loads a second protobuf instance whose message types the SDK does not accept.
import { createRequire } from 'node:module';
import type * as ProtoUtils from '@temporalio/common/lib/proto-utils.js';

const require = createRequire(import.meta.url);
const protoUtils = require('@temporalio/common/lib/proto-utils') as typeof ProtoUtils;

export const historyToJSON = protoUtils.historyToJSON;
export const historyFromJSON = protoUtils.historyFromJSON;
