package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/icpengine/icp"
)

// ICPSource gives the whole Ideal Customer Profile of the loaded model,
// encoded as JSON: segments with their rules and evidence, tiers, the
// anti-ICP and the validation metrics. The server answers it as it is.
type ICPSource interface {
	ICP(ctx context.Context) (json.RawMessage, error)
}

// registerICP adds GET /v1/icp. Without an ICPSource it answers 503, as
// the other optional routes do, so that clients see one API everywhere.
func (s *Server) registerICP(e *gin.Engine) {
	e.GET("/v1/icp", s.handle(s.handleICP))
}

// handleICP answers the ICP document of the loaded model.
func (s *Server) handleICP(c *gin.Context) error {
	if s.icp == nil {
		return fmt.Errorf("icp: no profile configured: %w", icp.ErrUnavailable)
	}
	doc, err := s.icp.ICP(c.Request.Context())
	if err != nil {
		return fmt.Errorf("icp: %w", err)
	}
	return s.writeJSON(c, http.StatusOK, doc)
}
