package main

import "github.com/spf13/cobra"

func newKVCmd() *cobra.Command {
	return &cobra.Command{Use: "kv", Hidden: true}
}
