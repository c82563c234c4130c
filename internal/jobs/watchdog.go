package jobs

import (
	"context"
	"sync/atomic"
	"time"
)

// Watchdog defaults: how often the watchdog looks, how long due jobs may wait while this
// process starts none before it counts as stalled, and how long a restart waits for the running
// jobs to finish before it cancels them.
const (
	watchInterval = 5 * time.Second
	stallAfter    = 30 * time.Second
	stopWait      = 10 * time.Second
)

// watchdog restarts this process's River client when its producer has stalled: jobs of the
// queue have been due for longer than stall, none started here in that time, and a worker slot
// is free. After a PostgreSQL failover River's producer was seen to stop fetching for good, with
// no error logged after its reconnect (docs/ha-drills.md); stopping and starting the client
// makes it fetch again. A process whose worker slots all hold running jobs is busy, not
// stalled, and is left alone; so is one that started a job recently. A slot held by a job that
// does not end does not hide a stall of the others: the restart waits stopWait for the running
// jobs, then cancels them, and River runs them again (at least once, as for any retry).
type watchdog struct {
	every, stall, stopWait time.Duration
	slots                  int          // worker slots of the client (Config.MaxWorkers)
	checks                 atomic.Int64 // evaluations made (tests wait on it)
	restarts               atomic.Int64 // restarts made
}

// watch runs the watchdog until ctx ends; startCtx is the context the client was started with.
func (c *Client) watch(ctx, startCtx context.Context) {
	t := time.NewTicker(c.wd.every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if !c.stalled(ctx) {
			continue
		}
		c.log.Warn("jobs: due jobs have waited while this process starts none; restarting the job queue client",
			"waited_over", c.wd.stall.String(), "running", c.resc.running.Load())
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.wd.stopWait)
		err := c.rc.Stop(sctx)
		cancel()
		if err != nil {
			c.log.Warn("jobs: stopping the stalled client; cancelling its running jobs", "error", err.Error())
			sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.wd.stopWait)
			_ = c.rc.StopAndCancel(sctx)
			cancel()
		}
		if ctx.Err() != nil {
			return
		}
		if err := c.rc.Start(startCtx); err != nil {
			c.log.Error("jobs: restarting the job queue client", "error", err.Error())
			continue
		}
		c.wd.restarts.Add(1)
		// Give the restarted producer a full stall period before judging it again.
		c.resc.lastStart.Store(time.Now().UnixNano())
	}
}

// stalled reports whether jobs are due for longer than the stall period while this process
// has a free worker slot and has started no job in that time.
func (c *Client) stalled(ctx context.Context) bool {
	defer c.wd.checks.Add(1)
	if c.resc.running.Load() >= int64(c.wd.slots) || time.Since(time.Unix(0, c.resc.lastStart.Load())) < c.wd.stall {
		return false
	}
	var due bool
	err := c.resc.pool.QueryRow(ctx, `SELECT EXISTS (
		SELECT 1 FROM river_job WHERE state = 'available' AND queue = 'default'
		  AND scheduled_at < now() - make_interval(secs => $1))`, c.wd.stall.Seconds()).Scan(&due)
	return err == nil && due
}
