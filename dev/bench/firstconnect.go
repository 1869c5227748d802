package bench

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"time"
)

// FirstConnect measures how soon a started bootstrap opens its connection to
// Trulience: the time from starting the process (outside the RIE) to the TCP
// accept at a listener standing in for Trulience's address, the median of
// runs. The process runs as in a Lambda (AWS_LAMBDA_RUNTIME_API set, to a
// port nothing listens on) and is killed once the connection arrives; no
// TLS is spoken, only the connect is timed. It is the first wait of a cold
// start, that the function moves as early as it can (docs/performance.md).
func FirstConnect(ctx context.Context, bootstrap string, runs int) (time.Duration, error) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	accepted := make(chan time.Time, 1)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			now := time.Now()
			c.Close()
			select {
			case accepted <- now:
			default: // a retry of the same process, already counted
			}
		}
	}()
	nobody, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	runtimeAPI := nobody.Addr().String()
	nobody.Close()
	var ds []time.Duration
	for range runs {
		cmd := exec.CommandContext(ctx, bootstrap)
		cmd.Env = append(os.Environ(),
			"AWS_LAMBDA_RUNTIME_API="+runtimeAPI,
			"TRULIENCE_API_URL=https://"+ln.Addr().String(),
			"TRULIENCE_SECRET_ID="+SecretID, "ALLOWED_AVATAR_IDS="+AvatarID, "ALLOWED_ORIGINS="+Origin,
			"AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=AKIALOCALTESTING000", "AWS_SECRET_ACCESS_KEY=local",
			"AWS_ENDPOINT_URL_SECRETS_MANAGER=http://"+runtimeAPI)
		for len(accepted) > 0 {
			<-accepted
		}
		start := time.Now()
		if err := cmd.Start(); err != nil {
			return 0, err
		}
		var d time.Duration
		select {
		case at := <-accepted:
			d = at.Sub(start)
		case <-time.After(5 * time.Second):
			err = errors.New("no connection within 5 s")
		}
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if err != nil {
			return 0, fmt.Errorf("first connection of %s: %w", bootstrap, err)
		}
		ds = append(ds, d)
	}
	return Median(ds), nil
}
