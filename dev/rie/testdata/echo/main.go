// Command echo is a tiny Lambda function for testing the rie package: it
// answers its event back, and obeys a few commands found in it (or in the
// body of an API Gateway event):
//
//	{"error":"msg"}  returns an error (an invocation error)
//	{"env":"NAME"}   answers {"value":"<$NAME>","set":true|false}
//	{"sleep":"2s"}   sleeps before answering
//	{"log":"text"}   prints text on stdout and stderr first
//	{"exit":1}       exits the process
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
)

type command struct {
	Error string `json:"error"`
	Env   string `json:"env"`
	Sleep string `json:"sleep"`
	Log   string `json:"log"`
	Exit  *int   `json:"exit"`
}

func handle(_ context.Context, event json.RawMessage) (any, error) {
	var c command
	_ = json.Unmarshal(event, &c)
	var apigw struct{ Body string }
	if json.Unmarshal(event, &apigw) == nil && apigw.Body != "" {
		_ = json.Unmarshal([]byte(apigw.Body), &c)
	}
	if c.Log != "" {
		fmt.Fprintln(os.Stdout, "stdout:", c.Log)
		fmt.Fprintln(os.Stderr, "stderr:", c.Log)
	}
	if c.Sleep != "" {
		d, _ := time.ParseDuration(c.Sleep)
		time.Sleep(d) // past the deadline too: the RIE must time it out
	}
	switch {
	case c.Exit != nil:
		os.Exit(*c.Exit)
	case c.Error != "":
		return nil, errors.New(c.Error)
	case c.Env != "":
		v, ok := os.LookupEnv(c.Env)
		return map[string]any{"value": v, "set": ok}, nil
	}
	return event, nil
}

func main() {
	fmt.Println("echo: init")
	lambda.Start(handle)
}
