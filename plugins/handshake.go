package plugins

import (
	"context"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	pb "github.com/keenml/keen/plugins/internal/pluginpb"
)

// ProtocolVersion is the version of backend.proto's protocol. Host and
// plugin must agree on it; go-plugin refuses a plugin that announces
// another.
const ProtocolVersion = 1

// Handshake is what host and plugin check before talking. The magic cookie
// only tells a person who runs a plugin binary by hand what it is.
var Handshake = plugin.HandshakeConfig{
	ProtocolVersion:  ProtocolVersion,
	MagicCookieKey:   "KEEN_BACKEND_PLUGIN",
	MagicCookieValue: "4b65656e206b65726e656c206261636b656e64",
}

// pluginName is the one plugin a backend binary serves.
const pluginName = "backend"

// maxMessage is the gRPC message limit on both sides. Large tensors go
// through shared memory, but without it (or for big string tensors) they
// travel inline.
const maxMessage = 1<<31 - 1

// shmEnv names the environment variable telling the plugin which inherited
// file descriptor holds the shared-memory area.
const shmEnv = "KEEN_PLUGIN_SHM_FD"

// grpcPlugin is go-plugin's view of a backend: srv on the plugin side; on
// the host side it hands out the generated gRPC client.
type grpcPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	srv pb.BackendServer
}

func (p *grpcPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	pb.RegisterBackendServer(s, p.srv)
	return nil
}

func (p *grpcPlugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, cc *grpc.ClientConn) (any, error) {
	return pb.NewBackendClient(cc), nil
}
