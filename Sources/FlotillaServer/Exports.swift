// The HTTP layer is part of what a server is: code that imports FlotillaServer also sees the types of its API
// (the join handshake's `JoinRequest` and `JoinAnswer` in `ServerOptions`, `WriteAdmission`, `HTTPRoutes`).
@_exported import FlotillaHTTP
