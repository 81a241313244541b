//! A MongoDB stand-in for the session-store check: no MongoDB server can be installed
//! here (no Debian package; the npm and PyPI wrappers download binaries), so this
//! answers OP_MSG as MongoDB's wire-protocol documentation specifies: `hello` and
//! `listDatabases`, the latter refused with code 13 (Unauthorized) unless open.

use std::net::Ipv4Addr;

use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;
use tokio::task::AbortHandle;

use crate::probe::store::{self, Bson, Store};

/// Listens on a loopback port; returns the task and the store's address.
pub async fn spawn(open: bool) -> anyhow::Result<(AbortHandle, Store)> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
    let port = listener.local_addr()?.port();
    let task = tokio::spawn(async move {
        while let Ok((mut tcp, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut id = 1000;
                while let Ok(doc) = store::read_op_msg(&mut tcp).await {
                    let fields = store::bson_fields(&doc);
                    let command = fields.first().map(|(k, _)| k.as_str()).unwrap_or("");
                    let reply = match command {
                        "hello" | "isMaster" | "ismaster" | "ping" => store::bson_doc(&[
                            ("isWritablePrimary", Bson::Bool(true)),
                            ("maxWireVersion", Bson::Int(21)),
                            ("ok", Bson::Double(1.0)),
                        ]),
                        _ if open => store::bson_doc(&[
                            ("totalSize", Bson::Int(0)),
                            ("ok", Bson::Double(1.0)),
                        ]),
                        _ => store::bson_doc(&[
                            ("ok", Bson::Double(0.0)),
                            (
                                "errmsg",
                                Bson::Str("Command listDatabases requires authentication"),
                            ),
                            ("code", Bson::Int(13)),
                            ("codeName", Bson::Str("Unauthorized")),
                        ]),
                    };
                    id += 1;
                    if tcp
                        .write_all(&store::op_msg_reply(id, 1, &reply))
                        .await
                        .is_err()
                    {
                        break;
                    }
                }
            });
        }
    });
    let s = Store::parse(&format!("mongodb://127.0.0.1:{port}")).map_err(anyhow::Error::msg)?;
    Ok((task.abort_handle(), s))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::store::{Answer, probe};

    #[tokio::test]
    async fn open_and_locked_as_mongodb_answers() {
        let (_t, s) = spawn(true).await.unwrap();
        assert!(matches!(probe(&s).await, Ok(Answer::Open(_))));
        let (_t2, s2) = spawn(false).await.unwrap();
        match probe(&s2).await {
            Ok(Answer::Refused(m)) => assert!(m.contains("code 13"), "{m}"),
            other => panic!("{other:?}"),
        }
    }
}
