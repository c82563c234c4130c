// Command baseline is the benchmark's reference server: the endpoints under test served by a
// bare Echo with no middleware at all (no auth, rate limit, request validation, request id,
// access log or error envelope). Each handler makes the same domain call as our endpoint, so
// the same SQL runs through the same pgxpool, and writes the result as JSON. The caller's firm
// comes from the X-Firm-Id header instead of an API key.
//
//	DATABASE_URL=... go run ./bench/baseline -addr 127.0.0.1:8091
package main

import (
	"context"
	"flag"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/casexchange/server/internal/app"
	"github.com/casexchange/server/internal/config"
	"github.com/casexchange/server/internal/postgres"
	"github.com/casexchange/server/internal/referrals"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8091", "listen address")
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if err := run(*addr, log); err != nil {
		log.Error("baseline", "error", err.Error())
		os.Exit(1)
	}
}

func run(addr string, log *slog.Logger) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cfg, err := config.Load()
	if err != nil {
		return err
	}
	// The same pool settings as the server.
	pool, err := postgres.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	a, err := app.New(ctx, cfg, pool, log, app.Options{})
	if err != nil {
		return err
	}
	defer a.Close()
	ref := a.Server.Referrals

	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	g := e.Group("/api/public/v1")
	g.GET("/sent-cases", func(c echo.Context) error {
		pg := page(c)
		res, err := ref.ListCases(c.Request().Context(), actor(c), referrals.CaseQuery{
			View: referrals.ViewSent, Search: c.QueryParam("search"), Sort: referrals.SortUpdatedAt, Page: pg,
		})
		if err != nil {
			return fail(c, err)
		}
		return c.JSON(http.StatusOK, listBody(res.Items, pg, res.Total))
	})
	g.GET("/sent-cases/:id", func(c echo.Context) error {
		v, err := ref.GetSentCase(c.Request().Context(), actor(c), c.Param("id"))
		if err != nil {
			return fail(c, err)
		}
		return c.JSON(http.StatusOK, map[string]any{"data": v})
	})
	g.GET("/received-referrals", func(c echo.Context) error {
		pg := page(c)
		q := referrals.ReceivedQuery{Search: c.QueryParam("search"), Page: pg}
		if s := c.QueryParam("status"); s != "" {
			st := referrals.Status(s)
			q.Status = referrals.StatusFilter{Status: &st}
		}
		res, err := ref.ListReceived(c.Request().Context(), actor(c), q)
		if err != nil {
			return fail(c, err)
		}
		return c.JSON(http.StatusOK, listBody(res.Items, pg, res.Total))
	})
	g.GET("/status-updates", func(c echo.Context) error {
		pg := page(c)
		fq := referrals.FeedQuery{Cursor: c.QueryParam("cursor"), Page: pg}
		if s := c.QueryParam("updatedSince"); s != "" {
			t, err := time.Parse(time.RFC3339Nano, s)
			if err != nil {
				return c.String(http.StatusBadRequest, err.Error())
			}
			fq.Since = &t
		}
		res, err := ref.Feed(c.Request().Context(), actor(c), fq)
		if err != nil {
			return fail(c, err)
		}
		return c.JSON(http.StatusOK, map[string]any{"data": res.Items, "nextCursor": res.NextCursor,
			"pagination": map[string]any{"page": pg.Page, "limit": pg.Limit, "total": res.Total}})
	})
	g.GET("/analytics/homepage", func(c echo.Context) error {
		h, err := a.Server.Analytics.Homepage(c.Request().Context(), actor(c).FirmID, c.QueryParam("tz"))
		if err != nil {
			return fail(c, err)
		}
		return c.JSON(http.StatusOK, map[string]any{"data": h})
	})
	g.POST("/sent-cases", func(c echo.Context) error {
		var b struct {
			Title, CaseType, Jurisdiction, ClientFirstName, ClientLastName string
			ReferentFirmID                                                 *uuid.UUID `json:"referentFirmId"`
		}
		if err := c.Bind(&b); err != nil {
			return c.String(http.StatusBadRequest, err.Error())
		}
		v, err := ref.CreateCase(c.Request().Context(), actor(c), referrals.CreateCaseInput{
			Title: b.Title, CaseType: b.CaseType, Jurisdiction: b.Jurisdiction,
			ClientFirstName: b.ClientFirstName, ClientLastName: b.ClientLastName, ReferentFirmID: b.ReferentFirmID,
		})
		if err != nil {
			return fail(c, err)
		}
		return c.JSON(http.StatusCreated, map[string]any{"data": v})
	})
	g.POST("/received-referrals/:id/begin-investigating", func(c echo.Context) error {
		v, err := ref.Act(c.Request().Context(), actor(c), referrals.Selector{Key: c.Param("id"), Receiving: true},
			referrals.ActionBeginInvestigating, referrals.ActionInput{})
		if err != nil {
			return fail(c, err)
		}
		return c.JSON(http.StatusOK, map[string]any{"data": v})
	})

	srv := &http.Server{Addr: addr, Handler: e, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	log.Warn("baseline listening", "addr", addr)
	if err := srv.ListenAndServe(); err != nil && err != http.ErrServerClosed {
		return err
	}
	return nil
}

func actor(c echo.Context) referrals.Actor {
	id, _ := uuid.Parse(c.Request().Header.Get("X-Firm-Id"))
	return referrals.Actor{FirmID: id, Source: referrals.SourceAPI}
}

func page(c echo.Context) referrals.Page {
	p, _ := strconv.Atoi(c.QueryParam("page"))
	l, _ := strconv.Atoi(c.QueryParam("limit"))
	if p < 1 {
		p = 1
	}
	if l < 1 {
		l = 20
	}
	return referrals.Page{Page: p, Limit: l}
}

func listBody[T any](items []T, pg referrals.Page, total int) map[string]any {
	return map[string]any{"data": items, "pagination": map[string]any{
		"page": pg.Page, "limit": pg.Limit, "total": total, "totalPages": (total + pg.Limit - 1) / pg.Limit,
	}}
}

func fail(c echo.Context, err error) error {
	return c.String(http.StatusInternalServerError, err.Error())
}
