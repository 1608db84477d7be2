"""`make api-key`: create a publisher API key in the deployed stack; it is shown once, stored as a hash."""

from __future__ import annotations

import os
import sys

from infra.operator import arguments, session, stack_outputs


def main() -> int:
    from subcast.services.api_keys import ALL_SCOPES

    parser = arguments(__doc__ or "")
    parser.add_argument("--name", required=True, help="who or what uses the key, e.g. 'newsroom CMS'")
    parser.add_argument(
        "--scope", action="append", choices=ALL_SCOPES, help="repeat for several (default: all)"
    )
    options = parser.parse_args()
    aws = session(options.region)
    os.environ["TABLE_NAME"] = stack_outputs(aws, options.stack_name)["DataTableName"]
    os.environ.setdefault("AWS_DEFAULT_REGION", aws.region_name or "us-east-1")

    from subcast.services.api_keys import create_api_key
    from subcast.services.dependencies import publishing_store

    key = create_api_key(publishing_store(), options.name, tuple(options.scope or ALL_SCOPES))
    print(f"API key for {options.name} (shown once, keep it safe):\n{key}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
