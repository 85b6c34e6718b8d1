#pragma once
// Turns a TlsServerConfig into an OpenSSL server context with the semantics
// of Go's crypto/tls options that exporter-toolkit exposes.
//
// Thread safety: the returned context is read-only after creation and is
// shared by all connections, as asio::ssl allows.
#include <boost/asio/ssl/context.hpp>
#include <memory>

#include "http/web_config.h"

namespace backupdrill::http {

// Throws std::runtime_error whose text starts with the offending key, e.g.
// "tls_server_config.key_file: the key does not match cert_file (...)".
std::shared_ptr<boost::asio::ssl::context> make_tls_context(const TlsServerConfig& config);

}  // namespace backupdrill::http
