package httpfront

import "github.com/gin-gonic/gin"

// UseReleaseMode switches gin, whose mode is process-wide, to release mode:
// no debug banner and no route listing on start. The binary calls it once,
// before building any server; tests leave gin in test mode.
func UseReleaseMode() { gin.SetMode(gin.ReleaseMode) }
