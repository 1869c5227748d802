// Package moto runs moto_server, the AWS emulator the tests and `make local`
// use for Secrets Manager, DynamoDB, CloudFormation and Lambda, and gives an
// SDK client aimed at it.
package moto
