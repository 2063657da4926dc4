// tests and demos only: needs the optional peer dependency @acd-bridge/testkit
import { VonageSimulator } from "@acd-bridge/vonage/simulator"

export {}
