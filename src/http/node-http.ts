// node:http and node:https for every module that makes or serves requests. An ESM import of
// node:http reads each of its exports to bind them, and three of them (WebSocket, CloseEvent,
// MessageEvent) are getters that load Node's bundled undici: about 10 MB of RSS that rollguard's
// long-running processes never use. process.getBuiltinModule returns the same module objects
// without touching those getters. (Type-only imports from 'node:http' cost nothing.)

export const http = process.getBuiltinModule('node:http');
export const https = process.getBuiltinModule('node:https');
