package server

import (
	_ "embed" // the OpenAPI document
	"net/http"

	"github.com/gin-gonic/gin"
)

// openAPIDocument is the hand-written OpenAPI 3 description of the routes.
// TestOpenAPIMatchesRoutes keeps it and the router in step, both ways.
//
//go:embed openapi.json
var openAPIDocument []byte

// handleOpenAPI serves the OpenAPI document.
func (s *Server) handleOpenAPI(c *gin.Context) error {
	c.Data(http.StatusOK, jsonContentType, openAPIDocument)
	return nil
}
