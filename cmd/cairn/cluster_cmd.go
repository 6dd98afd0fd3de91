package main

import "github.com/spf13/cobra"

func newClusterCmd() *cobra.Command {
	return &cobra.Command{Use: "cluster", Hidden: true}
}
