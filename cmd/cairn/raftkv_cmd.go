package main

import "github.com/spf13/cobra"

func newRaftKVCmd() *cobra.Command {
	return &cobra.Command{Use: "raftkv", Hidden: true}
}
