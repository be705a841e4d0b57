package server

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/icpengine/icp"
)

// defaultMaxArtifactBytes caps the body of POST /v1/admin/models when
// Config.MaxArtifactBytes is zero.
const defaultMaxArtifactBytes = 256 << 20

// maxReasonLen bounds the reason given with a registry change.
const maxReasonLen = 500

// ModelAdmin is the model registry as the admin routes use it; package
// registry implements it. Every change is validated there and recorded in
// the registry's history with actor, the API key that asked for it.
type ModelAdmin interface {
	Models(ctx context.Context) ([]icp.ModelRecord, error)
	History(ctx context.Context, limit int) ([]icp.ModelEvent, error)
	Register(ctx context.Context, artifact []byte, actor string) (icp.ModelRecord, bool, error)
	Promote(ctx context.Context, ref, actor, reason string) (icp.ModelEvent, error)
	Rollback(ctx context.Context, actor, reason string) (icp.ModelEvent, error)
	Shadow(ctx context.Context, ref, actor, reason string) (icp.ModelEvent, error)
	Unshadow(ctx context.Context, actor, reason string) (icp.ModelEvent, error)
}

// ServedModel is a model version a replica has in memory.
type ServedModel struct {
	Checksum string    `json:"checksum"`
	Version  string    `json:"version"`
	LoadedAt time.Time `json:"loaded_at"`
}

// ServedModels is what this replica serves now: the champion, and the
// shadow when one is set. Promotions reach it within the follower's
// interval.
type ServedModels struct {
	Champion ServedModel  `json:"champion"`
	Shadow   *ServedModel `json:"shadow,omitempty"`
}

// modelsPath is the registry's collection.
const modelsPath = "/v1/admin/models"

// registerModels adds the model registry routes, all under /v1/admin (the
// admin scope).
func (s *Server) registerModels(e *gin.Engine) {
	e.GET(modelsPath, s.handle(s.handleModels))
	e.POST(modelsPath, s.handle(s.handleRegisterModel))
	e.GET(modelsPath+"/history", s.handle(s.handleModelHistory))
	e.POST(modelsPath+"/promote", s.handle(s.handleModelChange(true, func(ctx context.Context, ref, actor, reason string) (icp.ModelEvent, error) {
		return s.models.Promote(ctx, ref, actor, reason)
	})))
	e.POST(modelsPath+"/rollback", s.handle(s.handleModelChange(false, func(ctx context.Context, _, actor, reason string) (icp.ModelEvent, error) {
		return s.models.Rollback(ctx, actor, reason)
	})))
	e.POST(modelsPath+"/shadow", s.handle(s.handleModelChange(true, func(ctx context.Context, ref, actor, reason string) (icp.ModelEvent, error) {
		return s.models.Shadow(ctx, ref, actor, reason)
	})))
	e.DELETE(modelsPath+"/shadow", s.handle(s.handleModelChange(false, func(ctx context.Context, _, actor, reason string) (icp.ModelEvent, error) {
		return s.models.Unshadow(ctx, actor, reason)
	})))
}

// actor names who asks for a registry change: the API key's name and id,
// as the access log has it.
func actor(c *gin.Context) string {
	if p, ok := principalFrom(c.Request.Context()); ok {
		return p.Name + " (" + p.KeyID + ")"
	}
	return "anonymous (authentication off)"
}

// handleModels lists the registered versions and what this replica serves.
func (s *Server) handleModels(c *gin.Context) error {
	if s.models == nil {
		return errNoStore
	}
	list, err := s.models.Models(c.Request.Context())
	if err != nil {
		return fmt.Errorf("list models: %w", err)
	}
	if list == nil {
		list = []icp.ModelRecord{}
	}
	var body struct {
		Serving *ServedModels     `json:"serving,omitempty"`
		Models  []icp.ModelRecord `json:"models"`
	}
	body.Models = list
	if s.serving != nil {
		sv := s.serving()
		body.Serving = &sv
	}
	return s.writeJSON(c, http.StatusOK, body)
}

// busyError is a request refused while another of its kind runs,
// answered 429 with Retry-After.
type busyError struct{ what string }

func (e *busyError) Error() string { return "busy: " + e.what }

// uploadTimeoutFor is the default deadline of a model upload whose body
// may hold limit bytes: 30 s, and a second for each MiB.
func uploadTimeoutFor(limit int64) time.Duration {
	return 30*time.Second + time.Duration(limit>>20)*time.Second
}

// isUpload reports whether c uploads a model artifact.
func isUpload(c *gin.Context) bool {
	return c.Request.Method == http.MethodPost && c.FullPath() == modelsPath
}

// handleRegisterModel stores the artifact in the body as a version: 201
// when it is new, 200 when it was registered already. It runs under
// UploadTimeout: the connection's read and write deadlines are stretched
// to it (the request is authenticated by now), and the body must arrive at
// StreamMinRate, as a stream's does. Nothing is stored unless the answer
// is a success: the registry stores last, and not once the deadline has
// passed.
func (s *Server) handleRegisterModel(c *gin.Context) error {
	if s.models == nil {
		return errNoStore
	}
	// One upload at a time: each may hold its artifact, and the model
	// decoded from it, in memory.
	select {
	case s.uploads <- struct{}{}:
		defer func() { <-s.uploads }()
	default:
		c.Header("Connection", "close") // answer without reading the body
		return &busyError{what: "another model upload is under way"}
	}
	rc := http.NewResponseController(c.Writer)
	var until time.Time // the zero time: no deadline
	if d, ok := c.Request.Context().Deadline(); ok {
		until = d
	}
	_ = rc.SetReadDeadline(until)
	_ = rc.SetWriteDeadline(until)
	req := c.Request
	if s.streamMinRate > 0 {
		r := *c.Request
		r.Body = io.NopCloser(s.streamBody(c))
		req = &r
	}
	body, err := readBody(req, s.maxArtifact)
	if err != nil {
		return err
	}
	// A repeated key would be read as its last value by the artifact's
	// decoder: refused here, as on every route.
	if path, dup := duplicateKey(body); dup {
		return duplicateError(path)
	}
	rec, created, err := s.models.Register(c.Request.Context(), body, actor(c))
	if err != nil {
		return fmt.Errorf("register model: %w", err)
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	return s.writeJSON(c, status, struct {
		Created bool            `json:"created"`
		Model   icp.ModelRecord `json:"model"`
	}{created, rec})
}

// handleModelHistory answers the registry's history, newest first;
// ?limit=N (default 100) bounds it.
func (s *Server) handleModelHistory(c *gin.Context) error {
	if s.models == nil {
		return errNoStore
	}
	limit := 100
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 10000 {
			var verr icp.ValidationError
			verr.Add("limit", "must be an integer from 1 to 10000")
			return &verr
		}
		limit = n
	}
	events, err := s.models.History(c.Request.Context(), limit)
	if err != nil {
		return fmt.Errorf("model history: %w", err)
	}
	if events == nil {
		events = []icp.ModelEvent{}
	}
	return s.writeJSON(c, http.StatusOK, struct {
		Events []icp.ModelEvent `json:"events"`
	}{events})
}

// handleModelChange answers a registry change whose JSON body is
// {"model": "ref", "reason": "..."}; model is required when needModel is
// set and refused otherwise, and the whole body is optional without it.
func (s *Server) handleModelChange(needModel bool, change func(ctx context.Context, ref, actor, reason string) (icp.ModelEvent, error)) func(*gin.Context) error {
	return func(c *gin.Context) error {
		if s.models == nil {
			return errNoStore
		}
		body, err := readBody(c.Request, s.maxBody)
		if err != nil {
			return err
		}
		ref, reason, err := decodeModelChange(body, needModel)
		if err != nil {
			return err
		}
		ev, err := change(c.Request.Context(), ref, actor(c), reason)
		if err != nil {
			return fmt.Errorf("model registry: %w", err)
		}
		return s.writeJSON(c, http.StatusOK, ev)
	}
}

// decodeModelChange reads {"model": "ref", "reason": "..."}.
func decodeModelChange(body []byte, needModel bool) (ref, reason string, err error) {
	var v icp.ValidationError
	fields := map[string]json.RawMessage{}
	if skipSpace(body, 0) != len(body) {
		if fields, err = decodeObject(body); err != nil {
			return "", "", err
		}
	}
	for k, raw := range fields {
		switch k {
		case "model":
			if !needModel {
				v.Add(k, "unknown field: this change takes no model")
			} else if json.Unmarshal(raw, &ref) != nil || strings.TrimSpace(ref) == "" {
				v.Add(k, "must be a non-empty string: a checksum, 8 or more of its hex digits, or a model version")
			}
		case "reason":
			if json.Unmarshal(raw, &reason) != nil {
				v.Add(k, "must be a string")
			} else if utf8.RuneCountInString(reason) > maxReasonLen {
				v.Add(k, fmt.Sprintf("must be at most %d characters", maxReasonLen))
			}
		default:
			v.Add(k, "unknown field")
		}
	}
	if needModel && fields["model"] == nil {
		v.Add("model", "required")
	}
	sortFieldErrors(v.Fields)
	return strings.TrimSpace(ref), strings.TrimSpace(reason), v.Err()
}
