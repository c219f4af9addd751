/// The OpenAPI 3.1 description of the API (CONTRACT.md §9), served at `GET /openapi.json` as written here. A test keeps
/// its paths and the router's routes in step, and CI runs schemathesis against a live service with it.
enum OpenAPIDocument {
    static let json = #"""
{
  "openapi": "3.1.0",
  "info": {
    "title": "Gatehouse",
    "version": "1",
    "description": "A self-hosted approval gate: file a request for one exact operation, wait for a person's decision, verify the payload before running it. Every error is `{\"error\": {\"code\", \"message\"}}`."
  },
  "security": [
    {
      "bearer": []
    },
    {
      "apiKey": []
    }
  ],
  "tags": [
    {
      "name": "approvals"
    },
    {
      "name": "policies"
    },
    {
      "name": "operations"
    }
  ],
  "paths": {
    "/v1/approvals": {
      "post": {
        "operationId": "createApproval",
        "summary": "File a request for approval",
        "tags": [
          "approvals"
        ],
        "parameters": [
          {
            "name": "Idempotency-Key",
            "in": "header",
            "required": false,
            "schema": {
              "type": "string",
              "minLength": 1,
              "maxLength": 255
            },
            "description": "Per API key: the same key with the same body returns the same approval (200); with a different body, 409 `idempotency_conflict`."
          }
        ],
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/CreateApproval"
              },
              "example": {
                "action": "Deploy api to production",
                "payload": {
                  "service": "api",
                  "environment": "production",
                  "commit": "4f2a9c1"
                },
                "reasoning": "Fixes the checkout timeout",
                "risk": "high",
                "gate": "deploy-prod",
                "requester": "agent:deploy-bot",
                "expires_in": 3600
              }
            }
          }
        },
        "responses": {
          "201": {
            "description": "Filed (policies may have decided it already).",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Approval"
                }
              }
            }
          },
          "200": {
            "description": "The approval an earlier request with this Idempotency-Key filed.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Approval"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "409": {
            "$ref": "#/components/responses/Conflict"
          },
          "413": {
            "$ref": "#/components/responses/TooLarge"
          },
          "422": {
            "$ref": "#/components/responses/Invalid"
          },
          "429": {
            "$ref": "#/components/responses/RateLimited"
          },
          "503": {
            "$ref": "#/components/responses/StorageFull"
          }
        }
      },
      "get": {
        "operationId": "listApprovals",
        "summary": "Approvals, newest first; a `request` key sees only its own",
        "tags": [
          "approvals"
        ],
        "parameters": [
          {
            "name": "status",
            "in": "query",
            "schema": {
              "type": "string",
              "enum": [
                "pending",
                "approved",
                "modified",
                "rejected",
                "expired",
                "cancelled",
                ""
              ]
            },
            "description": "Only approvals in this status; empty: any."
          },
          {
            "name": "gate",
            "in": "query",
            "schema": {
              "type": "string"
            },
            "description": "Only approvals filed at this gate; empty: any."
          },
          {
            "name": "mine",
            "in": "query",
            "schema": {
              "type": "string",
              "enum": ["true", "false", ""]
            },
            "description": "`true`: only approvals filed with the calling key."
          },
          {
            "name": "limit",
            "in": "query",
            "schema": {
              "anyOf": [
                {
                  "type": "integer",
                  "minimum": 1,
                  "maximum": 200
                },
                {
                  "type": "string",
                  "maxLength": 0
                }
              ],
              "default": 50
            },
            "description": "Approvals per page, 1–200; empty: 50."
          },
          {
            "name": "cursor",
            "in": "query",
            "schema": {
              "type": "string",
              "pattern": "^(c[1-9][0-9]{0,17})?$"
            },
            "description": "`next_cursor` of the page before; empty: the first page."
          }
        ],
        "responses": {
          "200": {
            "description": "A page.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/ApprovalPage"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "429": {
            "$ref": "#/components/responses/RateLimited"
          }
        }
      }
    },
    "/v1/approvals/{id}": {
      "parameters": [
        {
          "name": "id",
          "in": "path",
          "required": true,
          "schema": {
            "type": "string"
          },
          "description": "The approval's id, `apr_…`."
        }
      ],
      "get": {
        "operationId": "getApproval",
        "summary": "One approval; `wait` holds the request until it is decided or the seconds pass",
        "tags": [
          "approvals"
        ],
        "parameters": [
          {
            "name": "wait",
            "in": "query",
            "schema": {
              "type": "integer",
              "minimum": 0,
              "maximum": 60
            },
            "description": "Seconds to hold a pending approval's answer until it is decided."
          }
        ],
        "responses": {
          "200": {
            "description": "The approval (its current state when the wait ends).",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Approval"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "429": {
            "$ref": "#/components/responses/RateLimited"
          }
        }
      }
    },
    "/v1/approvals/{id}/audit": {
      "parameters": [
        {
          "name": "id",
          "in": "path",
          "required": true,
          "schema": {
            "type": "string"
          },
          "description": "The approval's id, `apr_…`."
        }
      ],
      "get": {
        "operationId": "getApprovalAudit",
        "summary": "The request's audit trail, oldest first, for a key that may see the request",
        "tags": [
          "approvals"
        ],
        "responses": {
          "200": {
            "description": "Its audit entries.",
            "content": {
              "application/json": {
                "schema": {
                  "type": "object",
                  "required": ["entries"],
                  "properties": {
                    "entries": {
                      "type": "array",
                      "items": {
                        "type": "object",
                        "required": ["seq", "at", "kind", "approval_id", "actor", "details", "prev_hash", "hash"],
                        "properties": {
                          "seq": {"type": "integer"},
                          "at": {"type": "string", "format": "date-time"},
                          "kind": {"type": "string"},
                          "approval_id": {"type": ["string", "null"]},
                          "actor": {"type": "string"},
                          "details": {"type": "object"},
                          "prev_hash": {"type": "string"},
                          "hash": {"type": "string"}
                        }
                      }
                    }
                  }
                }
              }
            }
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "429": {
            "$ref": "#/components/responses/RateLimited"
          }
        }
      }
    },
    "/v1/approvals/{id}/cancel": {
      "parameters": [
        {
          "name": "id",
          "in": "path",
          "required": true,
          "schema": {
            "type": "string"
          },
          "description": "The approval's id, `apr_…`."
        }
      ],
      "post": {
        "operationId": "cancelApproval",
        "summary": "The requester withdraws a pending request",
        "tags": [
          "approvals"
        ],
        "requestBody": {
          "required": false,
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/CancelRequest"
              },
              "example": {
                "reason": "superseded"
              }
            }
          }
        },
        "responses": {
          "200": {
            "description": "Cancelled.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Approval"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "409": {
            "$ref": "#/components/responses/Conflict"
          },
          "413": {
            "$ref": "#/components/responses/TooLarge"
          },
          "422": {
            "$ref": "#/components/responses/Invalid"
          },
          "429": {
            "$ref": "#/components/responses/RateLimited"
          },
          "503": {
            "$ref": "#/components/responses/StorageFull"
          }
        }
      }
    },
    "/v1/approvals/{id}/decision": {
      "parameters": [
        {
          "name": "id",
          "in": "path",
          "required": true,
          "schema": {
            "type": "string"
          },
          "description": "The approval's id, `apr_…`."
        }
      ],
      "post": {
        "operationId": "decideApproval",
        "summary": "Approve or reject (`decide` or `admin` scope); recorded as `key:NAME` for `as`",
        "tags": [
          "approvals"
        ],
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/DecisionRequest"
              },
              "example": {
                "outcome": "reject",
                "reason": "wrong commit",
                "as": "alice"
              }
            }
          }
        },
        "responses": {
          "200": {
            "description": "The vote is counted; the approval as it stands now.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Approval"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "409": {
            "$ref": "#/components/responses/Conflict"
          },
          "413": {
            "$ref": "#/components/responses/TooLarge"
          },
          "422": {
            "$ref": "#/components/responses/Invalid"
          },
          "429": {
            "$ref": "#/components/responses/RateLimited"
          },
          "503": {
            "$ref": "#/components/responses/StorageFull"
          }
        }
      }
    },
    "/v1/approvals/{id}/verify": {
      "parameters": [
        {
          "name": "id",
          "in": "path",
          "required": true,
          "schema": {
            "type": "string"
          },
          "description": "The approval's id, `apr_…`."
        }
      ],
      "post": {
        "operationId": "verifyApproval",
        "summary": "Check a payload against the approved one before running it; `consume` makes the approval single-use",
        "tags": [
          "approvals"
        ],
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/VerifyRequest"
              },
              "example": {
                "payload": {
                  "service": "api",
                  "environment": "production",
                  "commit": "4f2a9c1"
                },
                "consume": true
              }
            }
          }
        },
        "responses": {
          "200": {
            "description": "Approved (or modified) and the payload's digest equals the approved one.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Verified"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "409": {
            "$ref": "#/components/responses/Conflict"
          },
          "413": {
            "$ref": "#/components/responses/TooLarge"
          },
          "422": {
            "$ref": "#/components/responses/Invalid"
          },
          "429": {
            "$ref": "#/components/responses/RateLimited"
          },
          "503": {
            "$ref": "#/components/responses/StorageFull"
          }
        }
      }
    },
    "/v1/approvals/{id}/break-glass": {
      "parameters": [
        {
          "name": "id",
          "in": "path",
          "required": true,
          "schema": {
            "type": "string"
          },
          "description": "The approval's id, `apr_…`."
        }
      ],
      "post": {
        "operationId": "breakGlass",
        "summary": "Approve a pending request at once, loudly (keys created with `--break-glass`)",
        "tags": [
          "approvals"
        ],
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/BreakGlassRequest"
              },
              "example": {
                "reason": "checkout is down",
                "as": "bob"
              }
            }
          }
        },
        "responses": {
          "200": {
            "description": "Approved by break-glass.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Approval"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "409": {
            "$ref": "#/components/responses/Conflict"
          },
          "413": {
            "$ref": "#/components/responses/TooLarge"
          },
          "422": {
            "$ref": "#/components/responses/Invalid"
          },
          "429": {
            "$ref": "#/components/responses/RateLimited"
          },
          "503": {
            "$ref": "#/components/responses/StorageFull"
          }
        }
      }
    },
    "/v1/policy/evaluate": {
      "post": {
        "operationId": "evaluatePolicy",
        "summary": "The rule and outcome a request body would get now, storing nothing",
        "tags": [
          "policies"
        ],
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/CreateApproval"
              },
              "example": {
                "action": "Deploy api to production",
                "payload": {
                  "service": "api",
                  "environment": "production",
                  "commit": "4f2a9c1"
                },
                "reasoning": "Fixes the checkout timeout",
                "risk": "high",
                "gate": "deploy-prod",
                "requester": "agent:deploy-bot",
                "expires_in": 3600
              }
            }
          }
        },
        "responses": {
          "200": {
            "description": "The evaluation.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Evaluation"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "413": {
            "$ref": "#/components/responses/TooLarge"
          },
          "422": {
            "$ref": "#/components/responses/Invalid"
          },
          "429": {
            "$ref": "#/components/responses/RateLimited"
          }
        }
      }
    },
    "/healthz": {
      "get": {
        "operationId": "health",
        "summary": "Liveness",
        "tags": [
          "operations"
        ],
        "security": [],
        "responses": {
          "200": {
            "description": "The process runs.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Status"
                }
              }
            }
          }
        }
      }
    },
    "/readyz": {
      "get": {
        "operationId": "ready",
        "summary": "Readiness: the database answers and takes writes",
        "tags": [
          "operations"
        ],
        "security": [],
        "responses": {
          "200": {
            "description": "Ready.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Status"
                }
              }
            }
          },
          "503": {
            "description": "Writes fail for lack of disk space.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Status"
                }
              }
            }
          }
        }
      }
    },
    "/openapi.json": {
      "get": {
        "operationId": "openAPI",
        "summary": "This document",
        "tags": [
          "operations"
        ],
        "security": [],
        "responses": {
          "200": {
            "description": "OpenAPI 3.1.",
            "content": {
              "application/json": {
                "schema": {
                  "type": "object"
                }
              }
            }
          }
        }
      }
    }
  },
  "components": {
    "securitySchemes": {
      "bearer": {
        "type": "http",
        "scheme": "bearer",
        "description": "`Authorization: Bearer KEY`, a key from `gatehouse keys create`."
      },
      "apiKey": {
        "type": "apiKey",
        "in": "header",
        "name": "X-Api-Key",
        "description": "The same key as `X-Api-Key: KEY`."
      }
    },
    "schemas": {
      "Error": {
        "type": "object",
        "required": [
          "error"
        ],
        "additionalProperties": false,
        "properties": {
          "error": {
            "type": "object",
            "required": [
              "code",
              "message"
            ],
            "additionalProperties": false,
            "properties": {
              "code": {
                "type": "string",
                "pattern": "^[a-z_]+$"
              },
              "message": {
                "type": "string"
              }
            }
          }
        }
      },
      "CreateApproval": {
        "type": "object",
        "required": [
          "action",
          "payload"
        ],
        "properties": {
          "action": {
            "type": "string",
            "minLength": 1,
            "maxLength": 150,
            "pattern": "^[^\\n\\r\\u000b\\u000c\\u0085\\u2028\\u2029]*\\S[^\\n\\r\\u000b\\u000c\\u0085\\u2028\\u2029]*$",
            "description": "What will be done, in one line: \"Deploy api to production\"."
          },
          "payload": {
            "type": "object",
            "description": "The exact facts of the operation; the approval is bound to its digest. Numbers must be exact in a double (integers within ±2^53−1); big identifiers belong in strings."
          },
          "reasoning": {
            "type": [
              "string",
              "null"
            ],
            "maxLength": 20000,
            "description": "Why the requester wants it."
          },
          "consequences": {
            "type": [
              "string",
              "null"
            ],
            "maxLength": 20000,
            "description": "What happens if it runs."
          },
          "on_reject": {
            "type": [
              "string",
              "null"
            ],
            "maxLength": 20000,
            "description": "What the requester will do if rejected."
          },
          "risk": {
            "type": [
              "string",
              "null"
            ],
            "enum": [
              "low",
              "medium",
              "high",
              "critical",
              null
            ],
            "description": "Default `medium`."
          },
          "gate": {
            "type": [
              "string",
              "null"
            ],
            "pattern": "^[a-z0-9._-]{1,64}$",
            "description": "The escalation chain to use; default `default`."
          },
          "requester": {
            "type": [
              "string",
              "null"
            ],
            "minLength": 1,
            "maxLength": 200,
            "description": "Who asks: `agent:deploy-bot`, `pipeline:gitlab/123`, or a Slack user ID; default: the person the key was made for, else the key's name."
          },
          "expires_in": {
            "type": [
              "integer",
              "null"
            ],
            "minimum": 60,
            "maximum": 2592000,
            "description": "Seconds until it expires; default 24 h, or the sum of the gate's chain SLAs when longer."
          },
          "callback_url": {
            "type": [
              "string",
              "null"
            ],
            "format": "uri",
            "maxLength": 2048,
            "pattern": "^[Hh][Tt][Tt][Pp][Ss]?://[^/?#]+",
            "description": "Receives the decided approval, signed with `X-Gatehouse-Signature`. Only public addresses, unless the service's `callback_allow` setting allows others."
          }
        }
      },
      "Approval": {
        "type": "object",
        "required": [
          "action",
          "amended_payload",
          "callback_url",
          "consequences",
          "consumed_at",
          "created_at",
          "decision",
          "escalation_level",
          "escalation_levels",
          "expires_at",
          "gate",
          "id",
          "links",
          "on_reject",
          "payload",
          "payload_sha256",
          "policy",
          "quorum",
          "reasoning",
          "requester",
          "risk",
          "status",
          "votes"
        ],
        "additionalProperties": false,
        "properties": {
          "id": {
            "type": "string",
            "pattern": "^apr_[A-Za-z0-9_-]{24}$"
          },
          "status": {
            "type": "string",
            "enum": [
              "pending",
              "approved",
              "modified",
              "rejected",
              "expired",
              "cancelled"
            ],
            "description": "Once it leaves `pending` it never changes again. `modified`: run `decision.payload`, never the original."
          },
          "action": {
            "type": "string"
          },
          "payload": {
            "type": "object"
          },
          "payload_sha256": {
            "type": "string",
            "pattern": "^[0-9a-f]{64}$",
            "description": "Lowercase hex SHA-256 of the payload in RFC 8785 form."
          },
          "amended_payload": {
            "type": [
              "object",
              "null"
            ],
            "description": "Under a quorum, the payload a Modify put to the vote."
          },
          "reasoning": {
            "type": [
              "string",
              "null"
            ]
          },
          "consequences": {
            "type": [
              "string",
              "null"
            ]
          },
          "on_reject": {
            "type": [
              "string",
              "null"
            ]
          },
          "risk": {
            "type": "string",
            "enum": [
              "low",
              "medium",
              "high",
              "critical"
            ]
          },
          "gate": {
            "type": "string"
          },
          "requester": {
            "type": [
              "string",
              "null"
            ]
          },
          "callback_url": {
            "type": [
              "string",
              "null"
            ]
          },
          "created_at": {
            "type": "string",
            "format": "date-time"
          },
          "expires_at": {
            "type": "string",
            "format": "date-time"
          },
          "deadline": {
            "type": "string",
            "format": "date-time",
            "description": "While pending: the end of the current level's SLA or `expires_at`, whichever comes first."
          },
          "consumed_at": {
            "type": [
              "string",
              "null"
            ],
            "format": "date-time"
          },
          "escalation_level": {
            "type": "integer",
            "minimum": 1
          },
          "escalation_levels": {
            "type": "integer",
            "minimum": 1
          },
          "decision": {
            "oneOf": [
              {
                "$ref": "#/components/schemas/Decision"
              },
              {
                "type": "null"
              }
            ]
          },
          "links": {
            "type": "object",
            "additionalProperties": false,
            "properties": {
              "slack": {
                "type": "string"
              }
            }
          },
          "policy": {
            "type": [
              "string",
              "null"
            ]
          },
          "quorum": {
            "$ref": "#/components/schemas/Quorum"
          },
          "votes": {
            "type": "array",
            "items": {
              "$ref": "#/components/schemas/Vote"
            }
          }
        }
      },
      "Decision": {
        "type": "object",
        "required": [
          "at",
          "break_glass",
          "by",
          "by_name",
          "outcome",
          "payload",
          "payload_sha256",
          "reason",
          "reason_code"
        ],
        "additionalProperties": false,
        "properties": {
          "at": {
            "type": "string",
            "format": "date-time"
          },
          "break_glass": {
            "type": "boolean"
          },
          "by": {
            "type": "string",
            "description": "A Slack user ID, `key:NAME` for the API, `policy:RULE`, or `system:timeout`."
          },
          "by_name": {
            "type": [
              "string",
              "null"
            ]
          },
          "outcome": {
            "type": "string",
            "enum": [
              "approved",
              "modified",
              "rejected",
              "expired",
              "cancelled"
            ]
          },
          "payload": {
            "type": "object",
            "description": "What was approved: for `modified`, the payload to run instead of the original."
          },
          "payload_sha256": {
            "type": "string",
            "pattern": "^[0-9a-f]{64}$"
          },
          "reason": {
            "type": [
              "string",
              "null"
            ]
          },
          "reason_code": {
            "type": [
              "string",
              "null"
            ]
          }
        }
      },
      "Vote": {
        "type": "object",
        "required": [
          "at",
          "by",
          "by_name",
          "outcome",
          "roles",
          "withdrawn_at"
        ],
        "additionalProperties": false,
        "properties": {
          "at": {
            "type": "string",
            "format": "date-time"
          },
          "by": {
            "type": "string"
          },
          "by_name": {
            "type": [
              "string",
              "null"
            ]
          },
          "outcome": {
            "type": "string",
            "enum": [
              "approve",
              "reject",
              "modify"
            ]
          },
          "roles": {
            "type": "array",
            "items": {
              "type": "string"
            }
          },
          "withdrawn_at": {
            "type": [
              "string",
              "null"
            ],
            "format": "date-time"
          }
        }
      },
      "Quorum": {
        "type": "object",
        "required": [
          "required",
          "roles",
          "approvals",
          "missing_roles"
        ],
        "additionalProperties": false,
        "properties": {
          "required": {
            "type": "integer",
            "minimum": 1
          },
          "roles": {
            "type": "array",
            "items": {
              "type": "string"
            }
          },
          "approvals": {
            "type": "integer",
            "minimum": 0
          },
          "missing_roles": {
            "type": "array",
            "items": {
              "type": "string"
            }
          }
        }
      },
      "ApprovalPage": {
        "type": "object",
        "required": [
          "approvals",
          "next_cursor"
        ],
        "additionalProperties": false,
        "properties": {
          "approvals": {
            "type": "array",
            "items": {
              "$ref": "#/components/schemas/Approval"
            }
          },
          "next_cursor": {
            "type": [
              "string",
              "null"
            ],
            "description": "Pass as `cursor` for the next page; null on the last."
          }
        }
      },
      "DecisionRequest": {
        "type": "object",
        "required": [
          "outcome"
        ],
        "properties": {
          "outcome": {
            "type": "string",
            "enum": [
              "approve",
              "reject",
              "modify"
            ]
          },
          "payload": {
            "type": "object",
            "description": "With `modify`, and only then: the payload approved instead of the requested one."
          },
          "reason": {
            "type": [
              "string",
              "null"
            ],
            "maxLength": 20000
          },
          "as": {
            "type": [
              "string",
              "null"
            ],
            "description": "Who decides (a name or Slack user ID); required unless the key was created `--for` a person."
          }
        }
      },
      "BreakGlassRequest": {
        "type": "object",
        "required": [
          "reason"
        ],
        "properties": {
          "reason": {
            "type": "string",
            "maxLength": 20000
          },
          "as": {
            "type": [
              "string",
              "null"
            ]
          }
        }
      },
      "VerifyRequest": {
        "type": "object",
        "required": [
          "payload"
        ],
        "properties": {
          "payload": {
            "type": "object",
            "description": "The payload about to run; its digest must equal the approved one."
          },
          "consume": {
            "type": [
              "boolean",
              "null"
            ],
            "description": "Make the approval single-use."
          }
        }
      },
      "CancelRequest": {
        "type": "object",
        "properties": {
          "reason": {
            "type": [
              "string",
              "null"
            ]
          }
        }
      },
      "Verified": {
        "type": "object",
        "required": [
          "ok",
          "approval"
        ],
        "additionalProperties": false,
        "properties": {
          "ok": {
            "const": true
          },
          "approval": {
            "$ref": "#/components/schemas/Approval"
          }
        }
      },
      "Evaluation": {
        "type": "object",
        "required": [
          "policy",
          "outcome",
          "approvals",
          "roles",
          "chain",
          "window",
          "trace"
        ],
        "additionalProperties": false,
        "properties": {
          "policy": {
            "type": [
              "string",
              "null"
            ]
          },
          "outcome": {
            "type": "string"
          },
          "approvals": {
            "type": "integer",
            "minimum": 1
          },
          "roles": {
            "type": "array",
            "items": {
              "type": "string"
            }
          },
          "chain": {
            "type": [
              "string",
              "null"
            ]
          },
          "window": {
            "type": [
              "number",
              "null"
            ]
          },
          "trace": {
            "type": "array",
            "items": {
              "type": "object",
              "required": [
                "rule",
                "matched",
                "why"
              ],
              "additionalProperties": false,
              "properties": {
                "rule": {
                  "type": "string"
                },
                "matched": {
                  "type": "boolean"
                },
                "why": {
                  "type": [
                    "string",
                    "null"
                  ]
                }
              }
            }
          }
        }
      },
      "Status": {
        "type": "object",
        "required": [
          "status"
        ],
        "properties": {
          "status": {
            "type": "string"
          }
        }
      }
    },
    "responses": {
      "BadRequest": {
        "description": "The request cannot be read: `malformed_json` (not JSON, not an object, duplicate member names), `invalid_parameter` (a query parameter), `invalid_idempotency_key`, `malformed_request` (broken HTTP framing; the connection is closed).",
        "content": {
          "application/json": {
            "schema": {
              "allOf": [
                {
                  "$ref": "#/components/schemas/Error"
                },
                {
                  "type": "object",
                  "properties": {
                    "error": {
                      "type": "object",
                      "properties": {
                        "code": {
                          "enum": [
                            "malformed_json",
                            "invalid_parameter",
                            "invalid_idempotency_key",
                            "malformed_request"
                          ]
                        }
                      }
                    }
                  }
                }
              ]
            }
          }
        }
      },
      "Unauthorized": {
        "description": "A missing, unknown or revoked API key; nothing changed.",
        "content": {
          "application/json": {
            "schema": {
              "allOf": [
                {
                  "$ref": "#/components/schemas/Error"
                },
                {
                  "type": "object",
                  "properties": {
                    "error": {
                      "type": "object",
                      "properties": {
                        "code": {
                          "enum": [
                            "unauthorized"
                          ]
                        }
                      }
                    }
                  }
                }
              ]
            }
          }
        },
        "headers": {
          "WWW-Authenticate": {
            "description": "`Bearer`.",
            "schema": {
              "type": "string"
            }
          }
        }
      },
      "Forbidden": {
        "description": "The key may not do this: `forbidden` (its scope), `self_approval` (the requester deciding), `not_approver`, `not_requester`.",
        "content": {
          "application/json": {
            "schema": {
              "allOf": [
                {
                  "$ref": "#/components/schemas/Error"
                },
                {
                  "type": "object",
                  "properties": {
                    "error": {
                      "type": "object",
                      "properties": {
                        "code": {
                          "enum": [
                            "forbidden",
                            "self_approval",
                            "not_approver",
                            "not_requester"
                          ]
                        }
                      }
                    }
                  }
                }
              ]
            }
          }
        }
      },
      "NotFound": {
        "description": "No approval with that id, or one another `request` key filed.",
        "content": {
          "application/json": {
            "schema": {
              "allOf": [
                {
                  "$ref": "#/components/schemas/Error"
                },
                {
                  "type": "object",
                  "properties": {
                    "error": {
                      "type": "object",
                      "properties": {
                        "code": {
                          "enum": [
                            "not_found"
                          ]
                        }
                      }
                    }
                  }
                }
              ]
            }
          }
        }
      },
      "Conflict": {
        "description": "The approval is not in a state that allows this.",
        "content": {
          "application/json": {
            "schema": {
              "allOf": [
                {
                  "$ref": "#/components/schemas/Error"
                },
                {
                  "type": "object",
                  "properties": {
                    "error": {
                      "type": "object",
                      "properties": {
                        "code": {
                          "enum": [
                            "already_decided",
                            "already_voted",
                            "expired",
                            "not_approved",
                            "payload_mismatch",
                            "already_consumed",
                            "idempotency_conflict"
                          ]
                        }
                      }
                    }
                  }
                }
              ]
            }
          }
        }
      },
      "TooLarge": {
        "description": "The body is larger than 1 MiB.",
        "content": {
          "application/json": {
            "schema": {
              "allOf": [
                {
                  "$ref": "#/components/schemas/Error"
                },
                {
                  "type": "object",
                  "properties": {
                    "error": {
                      "type": "object",
                      "properties": {
                        "code": {
                          "enum": [
                            "body_too_large"
                          ]
                        }
                      }
                    }
                  }
                }
              ]
            }
          }
        }
      },
      "Invalid": {
        "description": "A field is missing or wrong; the message names it. Payload numbers that JSON cannot carry exactly are refused here too.",
        "content": {
          "application/json": {
            "schema": {
              "allOf": [
                {
                  "$ref": "#/components/schemas/Error"
                },
                {
                  "type": "object",
                  "properties": {
                    "error": {
                      "type": "object",
                      "properties": {
                        "code": {
                          "enum": [
                            "invalid_field"
                          ]
                        }
                      }
                    }
                  }
                }
              ]
            }
          }
        }
      },
      "RateLimited": {
        "description": "Too many failed authentications from this address this minute.",
        "content": {
          "application/json": {
            "schema": {
              "allOf": [
                {
                  "$ref": "#/components/schemas/Error"
                },
                {
                  "type": "object",
                  "properties": {
                    "error": {
                      "type": "object",
                      "properties": {
                        "code": {
                          "enum": [
                            "rate_limited"
                          ]
                        }
                      }
                    }
                  }
                }
              ]
            }
          }
        },
        "headers": {
          "Retry-After": {
            "description": "Seconds to wait before trying again.",
            "schema": {
              "type": "integer",
              "minimum": 1
            }
          }
        }
      },
      "StorageFull": {
        "description": "The service's disk is full: nothing was stored.",
        "content": {
          "application/json": {
            "schema": {
              "allOf": [
                {
                  "$ref": "#/components/schemas/Error"
                },
                {
                  "type": "object",
                  "properties": {
                    "error": {
                      "type": "object",
                      "properties": {
                        "code": {
                          "enum": [
                            "storage_full"
                          ]
                        }
                      }
                    }
                  }
                }
              ]
            }
          }
        },
        "headers": {
          "Retry-After": {
            "description": "Seconds to wait before trying again.",
            "schema": {
              "type": "integer",
              "minimum": 1
            }
          }
        }
      }
    }
  }
}
"""#
}
