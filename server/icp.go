package server

import (
	"context"
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"
)

// ICPSource gives the whole Ideal Customer Profile of the loaded model:
// segments with their rules and evidence, tiers, the anti-ICP and the
// validation metrics. The value must encode as JSON.
type ICPSource interface {
	ICP(ctx context.Context) (any, error)
}

// registerICP adds GET /v1/icp when an ICPSource is configured.
func (s *Server) registerICP(e *gin.Engine) {
	if s.icp != nil {
		e.GET("/v1/icp", s.handle(s.handleICP))
	}
}

// handleICP answers the ICP document of the loaded model.
func (s *Server) handleICP(c *gin.Context) error {
	doc, err := s.icp.ICP(c.Request.Context())
	if err != nil {
		return fmt.Errorf("icp: %w", err)
	}
	return s.writeJSON(c, http.StatusOK, doc)
}
